"use client";

import { useMemo } from "react";
import {
  Area,
  CartesianGrid,
  ComposedChart,
  Line,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  useXAxisScale,
  useYAxisScale,
  type TooltipContentProps,
} from "recharts";
import type { LossName } from "@/lib/analysis/types";
import type { LossSeriesDto, RunEventDto } from "@/lib/dto";
import { formatRatio } from "@/lib/ui/formatCount";
import { linePath, prepareLossChart, type LossChartLine, type LossChartModel, type LossChartRow } from "@/lib/ui/prepareLossChart";
import { useSearchParamsUpdater } from "./useSearchParamsUpdater";

/** LossChart renders one prepared loss model: a line per MoE layer, min/max bands, event markers, a layer legend. */
export function LossChart({
  title,
  note,
  testId,
  series,
  events,
  loss,
  selectedLayer,
}: {
  title: string;
  note?: string;
  testId: string;
  series: LossSeriesDto | null;
  events: RunEventDto[];
  loss: LossName;
  selectedLayer: number | null;
}) {
  const model = useMemo(
    () =>
      series
        ? prepareLossChart(series, events, { loss, highlightLayer: selectedLayer })
        : prepareLossChart({ runId: "", fromStep: null, toStep: null, bucketSize: 1, series: [] }, events, { loss }),
    [series, events, loss, selectedLayer],
  );
  const [update, pending] = useSearchParamsUpdater();
  const dim = model.lines.some((l) => l.highlighted);

  return (
    <section
      className="flex min-w-0 flex-col rounded-lg border border-line bg-surface p-4"
      data-testid={testId}
      data-points={model.pointCount}
      data-markers={model.markers.length}
      aria-busy={pending}
    >
      <header className="mb-1 flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h2 className="text-sm font-semibold">{title}</h2>
        <code className="text-xs text-muted">{loss}</code>
        <span className="ml-auto text-xs text-muted" data-testid={`${testId}-count`}>
          {model.pointCount.toLocaleString("en-US")} points
          {model.bucketSize > 1 ? ` · ${model.bucketSize} steps/bucket (min–max band kept)` : ""}
        </span>
      </header>
      {note && <p className="mb-2 text-[11px] text-muted">{note}</p>}
      <div className="h-64 w-full">
        {model.rows.length === 0 ? (
          <div className="flex h-full items-center justify-center text-sm text-muted">No {loss} reported yet.</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart
              data={model.rows}
              margin={{ top: 14, right: 16, bottom: 4, left: 0 }}
              onClick={(state) => {
                if (typeof state?.activeLabel === "number") update({ step: state.activeLabel });
              }}
            >
              <CartesianGrid stroke="var(--chart-grid)" strokeDasharray="3 3" />
              <XAxis
                dataKey="step"
                type="number"
                domain={["dataMin", "dataMax"]}
                allowDecimals={false}
                tick={{ fill: "var(--chart-axis)", fontSize: 11 }}
                stroke="var(--chart-axis)"
                label={{ value: "step", position: "insideBottomRight", offset: -2, fill: "var(--chart-axis)", fontSize: 11 }}
              />
              <YAxis
                domain={model.yDomain ?? ["auto", "auto"]}
                tick={{ fill: "var(--chart-axis)", fontSize: 11 }}
                stroke="var(--chart-axis)"
                tickFormatter={(v: number) => formatRatio(v)}
                width={52}
              />
              <Area
                dataKey={model.envelopeKey}
                stroke="none"
                fill="var(--chart-band)"
                fillOpacity={0.18}
                isAnimationActive={false}
                activeDot={false}
                name="min–max over layers"
              />
              {model.bandKey && (
                <Area
                  dataKey={model.bandKey}
                  stroke="none"
                  fill={model.lines.find((l) => l.highlighted)?.color}
                  fillOpacity={0.25}
                  isAnimationActive={false}
                  activeDot={false}
                />
              )}
              {model.reference && (
                <ReferenceLine
                  y={model.reference.y}
                  stroke="var(--chart-ref)"
                  strokeDasharray="6 4"
                  ifOverflow="extendDomain"
                  label={{ value: model.reference.label, position: "insideTopLeft", fill: "var(--chart-axis)", fontSize: 10 }}
                />
              )}
              <LayerPaths rows={model.rows} lines={model.lines.filter((l) => !l.highlighted)} opacity={dim ? 0.35 : 1} />
              {model.lines
                .filter((l) => l.highlighted)
                .map((l) => (
                  <Line
                    key={l.key}
                    dataKey={l.key}
                    name={l.name}
                    stroke={l.color}
                    strokeWidth={2.5}
                    dot={false}
                    activeDot={{ r: 3 }}
                    isAnimationActive={false}
                    connectNulls
                  />
                ))}
              {model.markers.map((m) => (
                <ReferenceLine
                  key={`${m.kind}@${m.step}`}
                  x={m.step}
                  stroke={m.color}
                  strokeWidth={2}
                  strokeDasharray={m.kind === "finished" ? "2 3" : undefined}
                  ifOverflow="extendDomain"
                  label={{ value: m.label, position: "insideTopRight", fill: m.color, fontSize: 11, fontWeight: 600 }}
                  className={`event-marker event-marker-${m.kind}`}
                />
              ))}
              <Tooltip
                isAnimationActive={false}
                content={(p: TooltipContentProps) => <LossTooltip props={p} model={model} />}
              />
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
      {model.markers.length > 0 && (
        <ul className="mt-1 flex flex-wrap gap-2 text-[11px]" data-testid={`${testId}-markers`}>
          {model.markers.map((m) => (
            <li
              key={`${m.kind}@${m.step}`}
              className="flex items-center gap-1 font-medium"
              style={{ color: m.color }}
              data-testid="event-marker"
              data-kind={m.kind}
            >
              <span aria-hidden className="inline-block h-3 w-0.5" style={{ background: m.color }} />
              {m.label} @ step {m.step}
            </li>
          ))}
        </ul>
      )}
      <LayerLegend model={model} onSelect={(layer) => update({ layer })} />
    </section>
  );
}

/**
 * LayerPaths draws the layers that are not highlighted as plain SVG paths on the chart's own scales (one
 * recharts `<Line>` per layer made 64-layer runs spend most of the page's script time inside recharts);
 * the highlighted layer stays a recharts `<Line>` with its hover dot, and the tooltip reads the rows.
 */
function LayerPaths({ rows, lines, opacity }: { rows: LossChartRow[]; lines: LossChartLine[]; opacity: number }) {
  const xScale = useXAxisScale();
  const yScale = useYAxisScale();
  if (!xScale || !yScale || lines.length === 0) return null;
  const x = (step: number) => xScale(step);
  const y = (v: number) => yScale(v);
  return (
    <g className="loss-layer-lines" data-testid="loss-layer-lines" data-lines={lines.length}>
      {lines.map((l) => (
        <path key={l.key} d={linePath(rows, l.key, x, y)} fill="none" stroke={l.color} strokeWidth={1.25} strokeOpacity={opacity} data-layer={l.layer}>
          <title>{l.name}</title>
        </path>
      ))}
    </g>
  );
}

function LayerLegend({ model, onSelect }: { model: LossChartModel; onSelect: (layer: number | null) => void }) {
  if (model.lines.length === 0) return null;
  return (
    <div className="mt-2 flex max-h-20 flex-wrap gap-1 overflow-y-auto" role="group" aria-label="Layers">
      {model.lines.map((l) => (
        <button
          key={l.key}
          type="button"
          aria-pressed={l.highlighted}
          onClick={() => onSelect(l.highlighted ? null : l.layer)}
          className={`flex items-center gap-1 rounded border px-1.5 py-0.5 text-[11px] ${
            l.highlighted ? "border-fg font-semibold" : "border-line text-muted hover:text-fg"
          }`}
        >
          <span aria-hidden className="inline-block h-0.5 w-3" style={{ background: l.color }} />L{l.layer}
        </button>
      ))}
    </div>
  );
}

function LossTooltip({ props, model }: { props: TooltipContentProps; model: LossChartModel }) {
  if (!props.active || !props.payload || props.payload.length === 0) return null;
  const row = props.payload[0]?.payload as LossChartRow | undefined;
  if (!row) return null;
  const values = model.lines
    .map((l) => ({ line: l, v: row[l.key] }))
    .filter((x): x is { line: (typeof model.lines)[number]; v: number } => typeof x.v === "number");
  const top = [...values].sort((a, b) => b.v - a.v).slice(0, 5);
  const highlighted = values.find((x) => x.line.highlighted);
  const band = model.bandKey ? (row[model.bandKey] as [number, number] | undefined) : undefined;
  const env = row[model.envelopeKey] as [number, number] | undefined;
  return (
    <div className="rounded-md border border-line bg-surface px-3 py-2 text-xs shadow-lg">
      <div className="mb-1 font-semibold">step {row.step}</div>
      {highlighted && (
        <div className="mb-1">
          <span style={{ color: highlighted.line.color }}>■</span> layer {highlighted.line.layer}: <b>{formatRatio(highlighted.v)}</b>
          {band && (
            <span className="text-muted">
              {" "}
              (min {formatRatio(band[0])}, max {formatRatio(band[1])})
            </span>
          )}
        </div>
      )}
      {env && (
        <div className="text-muted">
          all layers: {formatRatio(env[0])} – {formatRatio(env[1])}
        </div>
      )}
      <div className="mt-1 text-muted">highest:</div>
      {top.map(({ line, v }) => (
        <div key={line.key}>
          <span style={{ color: line.color }}>■</span> L{line.layer} {formatRatio(v)}
        </div>
      ))}
    </div>
  );
}
