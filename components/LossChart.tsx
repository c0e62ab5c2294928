"use client";

import type { ReactNode } from "react";
import { formatRatio } from "@/lib/ui/formatCount";
import { bandPath, polylinePath } from "@/lib/ui/chartGeometry";
import type { LossChartModel } from "@/lib/ui/prepareLossChart";
import { SvgPlot, type PlotRefLine } from "./SvgPlot";
import { useSearchParamsUpdater } from "./useSearchParamsUpdater";

const MARGIN = { top: 14, right: 16, bottom: 30, left: 52 };

/**
 * LossChart renders one prepared loss model (prepared on the server: only its columns travel): a line per
 * MoE layer, the min/max envelope over layers, the highlighted layer's band, event markers and a layer
 * legend. Plain SVG paths (no charting library): 64 layers x 2 charts cost recharts most of the page's
 * script time, and the lines are in the server's HTML, drawn before any script runs.
 */
export function LossChart({ title, note, testId, model }: { title: string; note?: string; testId: string; model: LossChartModel }) {
  const [update, pending] = useSearchParamsUpdater();
  const highlighted = model.lines.find((l) => l.highlighted) ?? null;
  const others = model.lines.filter((l) => !l.highlighted);
  const { steps, envelope, band, loss } = model;
  const refLines: PlotRefLine[] = [];
  if (model.reference) {
    refLines.push({ axis: "y", value: model.reference.y, color: "var(--chart-ref)", dash: "6 4", label: model.reference.label, labelColor: "var(--chart-axis)" });
  }
  for (const m of model.markers) {
    refLines.push({
      axis: "x",
      value: m.step,
      color: m.color,
      width: 2,
      dash: m.kind === "finished" ? "2 3" : undefined,
      label: m.label,
      className: `event-marker event-marker-${m.kind}`,
    });
  }
  const stepsAndMarkers = [...(steps.length ? [steps[0], steps[steps.length - 1]] : []), ...model.markers.map((m) => m.step)];
  const xDomain: [number, number] = [Math.min(...stepsAndMarkers), Math.max(...stepsAndMarkers)];

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
        {steps.length === 0 || !model.yDomain ? (
          <div className="flex h-full items-center justify-center text-sm text-muted">No {loss} reported yet.</div>
        ) : (
          <SvgPlot
            height={256}
            margin={MARGIN}
            xDomain={xDomain}
            yDomain={model.yDomain}
            xLabel="step"
            yFormat={(v) => formatRatio(v)}
            xs={steps}
            refLines={refLines}
            onPick={(i) => update({ step: steps[i] })}
            hoverDot={(i) => (highlighted && highlighted.values[i] != null ? { y: highlighted.values[i]!, color: highlighted.color } : null)}
            tooltip={(i) => <LossTooltip model={model} index={i} />}
          >
            {({ x, y }) => (
              <>
                <path d={bandPath(steps, envelope.lo, envelope.hi, x, y)} fill="var(--chart-band)" fillOpacity={0.18} stroke="none" />
                {band && highlighted && <path d={bandPath(steps, band.lo, band.hi, x, y)} fill={highlighted.color} fillOpacity={0.25} stroke="none" />}
                <g className="loss-layer-lines" data-testid="loss-layer-lines" data-lines={others.length} fill="none" strokeWidth={1.25} strokeOpacity={highlighted ? 0.35 : 1}>
                  {others.map((l) => (
                    <path key={l.key} d={polylinePath(steps, l.values, x, y)} stroke={l.color} data-layer={l.layer}>
                      <title>{l.name}</title>
                    </path>
                  ))}
                </g>
                {highlighted && (
                  <path d={polylinePath(steps, highlighted.values, x, y)} fill="none" stroke={highlighted.color} strokeWidth={2.5} data-layer={highlighted.layer} data-highlighted="">
                    <title>{highlighted.name}</title>
                  </path>
                )}
              </>
            )}
          </SvgPlot>
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

function LossTooltip({ model, index }: { model: LossChartModel; index: number }): ReactNode {
  const values = model.lines
    .map((l) => ({ line: l, v: l.values[index] }))
    .filter((x): x is { line: (typeof model.lines)[number]; v: number } => typeof x.v === "number");
  const top = [...values].sort((a, b) => b.v - a.v).slice(0, 5);
  const highlighted = values.find((x) => x.line.highlighted);
  const band = model.band ? [model.band.lo[index], model.band.hi[index]] : null;
  const env = [model.envelope.lo[index], model.envelope.hi[index]];
  return (
    <>
      <div className="mb-1 font-semibold">step {model.steps[index]}</div>
      {highlighted && (
        <div className="mb-1">
          <span style={{ color: highlighted.line.color }}>■</span> layer {highlighted.line.layer}: <b>{formatRatio(highlighted.v)}</b>
          {band && band[0] != null && band[1] != null && (
            <span className="text-muted">
              {" "}
              (min {formatRatio(band[0])}, max {formatRatio(band[1])})
            </span>
          )}
        </div>
      )}
      {env[0] != null && env[1] != null && (
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
    </>
  );
}
