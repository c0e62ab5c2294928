"use client";

import { useMemo } from "react";
import type { ImbalanceHeatmapDto } from "@/lib/dto";
import { formatRatio } from "@/lib/ui/formatCount";
import { bandPath, polylinePath } from "@/lib/ui/chartGeometry";
import { IMBALANCE_METRICS, prepareImbalanceHeatmap, prepareImbalanceSummary, type ImbalanceSummaryModel } from "@/lib/ui/prepareImbalanceHeatmap";
import { HeatmapCanvas } from "./HeatmapCanvas";
import { SvgPlot } from "./SvgPlot";
import { useCanvasTheme } from "./useCanvasTheme";
import { useSearchParamsUpdater } from "./useSearchParamsUpdater";

/**
 * ImbalancePanel: one imbalance metric (selected by ?metric=) for every MoE layer over steps as a
 * layer x step heatmap (worst value per bucket), with the cross-layer min/median/p90/max per step under it.
 * Click a cell to select that layer and step.
 */
export function ImbalancePanel({ dto, selectedLayer, selectedStep }: { dto: ImbalanceHeatmapDto; selectedLayer: number | null; selectedStep: number | null }) {
  const theme = useCanvasTheme();
  const model = useMemo(() => prepareImbalanceHeatmap(dto, theme.palette), [dto, theme.palette]);
  const summary = useMemo(() => prepareImbalanceSummary(dto), [dto]);
  const [update, pending] = useSearchParamsUpdater();
  const rows = model.rows;
  const cellHeight = Math.max(6, Math.min(20, Math.floor(320 / Math.max(rows.length, 1))));
  const highlightRow = rows.findIndex((r) => r.layer === selectedLayer);
  let highlightCol: number | null = null;
  if (selectedStep != null) {
    const i = model.steps.findIndex((s) => selectedStep >= s && selectedStep < s + model.bucketSize);
    highlightCol = i >= 0 ? i : null;
  }
  const info = model.info;

  return (
    <section className="rounded-lg border border-line bg-surface p-4" data-testid="imbalance-panel" data-metric={info.metric} data-cells={model.cellCount} aria-busy={pending}>
      <header className="mb-2 flex flex-wrap items-center gap-x-4 gap-y-2">
        <h2 className="text-sm font-semibold">
          Imbalance per layer <span className="font-normal text-muted">{info.label} over steps</span>
        </h2>
        <div role="radiogroup" aria-label="Imbalance metric" className="flex overflow-hidden rounded-md border border-line text-xs">
          {IMBALANCE_METRICS.map((m) => (
            <button
              key={m.metric}
              type="button"
              role="radio"
              aria-checked={m.metric === info.metric}
              data-testid={`metric-${m.metric}`}
              onClick={() => update({ metric: m.metric })}
              className={`border-l border-line px-2 py-1 first:border-l-0 ${m.metric === info.metric ? "bg-fg font-semibold text-bg" : "text-muted hover:bg-surface-2 hover:text-fg"}`}
            >
              {m.label}
            </button>
          ))}
        </div>
        <span className="text-xs text-muted">{info.description}</span>
        <span className="ml-auto text-xs text-muted">
          {model.bucketSize > 1 ? `${model.bucketSize} steps per column, ${model.reduce === "max" ? "highest" : "lowest"} value kept` : "one column per step"}
          {model.worst && (
            <>
              {" "}
              · worst <b className="text-fg">{formatRatio(model.worst.value)}</b> at L{model.worst.layer}, step {model.worst.step}
            </>
          )}
        </span>
      </header>
      <div className="mb-2 flex items-center gap-2 text-[11px] text-muted" data-testid="imbalance-legend">
        <span>{info.label}</span>
        {model.legend.map((s, i) => (
          <span key={s.value} className="flex items-center gap-1">
            <span className="inline-block h-2.5 w-5 rounded-sm ring-1 ring-line" style={{ background: s.color }} />
            {i === model.legend.length - 1 ? (info.saturate > info.balanced ? `≥${s.value}` : `≤${s.value}`) : s.value}
          </span>
        ))}
        <span className="flex items-center gap-1">
          <span className="inline-block h-2.5 w-5 rounded-sm ring-1 ring-line" style={{ background: theme.palette.empty }} /> no complete data
        </span>
      </div>
      {model.steps.length === 0 ? (
        <p className="py-10 text-center text-sm text-muted">No aggregated steps yet.</p>
      ) : (
        <HeatmapCanvas
          rows={rows.length}
          cols={model.steps.length}
          cellHeight={cellHeight}
          theme={theme}
          colorAt={(r, c) => rows[r].colors[c]}
          shadeAt={(r, c) => rows[r].shades[c]}
          rowLabel={(r) => rows[r].label}
          colLabel={(c) => String(model.steps[c])}
          colAxis="step"
          highlightRow={highlightRow >= 0 ? highlightRow : null}
          highlightCol={highlightCol}
          onCellClick={(r, c) => update({ layer: rows[r].layer, step: model.steps[c] })}
          ariaLabel={`${info.label} heatmap, ${rows.length} MoE layers by ${model.steps.length} step columns`}
          testId="imbalance-heatmap"
          tooltip={(r, c) => (
            <dl className="grid grid-cols-[auto_auto] gap-x-3 gap-y-0.5">
              <dt className="text-muted">layer</dt>
              <dd className="font-medium">L{rows[r].layer}</dd>
              <dt className="text-muted">step{model.bucketSize > 1 ? "s" : ""}</dt>
              <dd>{model.bucketSize > 1 ? `${model.steps[c]}–${model.steps[c] + model.bucketSize - 1}` : model.steps[c]}</dd>
              <dt className="text-muted">{info.label}</dt>
              <dd className="font-medium">{formatRatio(rows[r].values[c])}</dd>
            </dl>
          )}
        />
      )}
      <div className="mt-3">
        <h3 className="mb-1 text-xs font-medium text-muted">Across layers per step: min–max band, median and p90</h3>
        <div className="h-36 w-full" data-testid="imbalance-summary-chart" data-points={summary.rows.length}>
          {summary.rows.length === 0 ? (
            <div className="flex h-full items-center justify-center text-xs text-muted">No data.</div>
          ) : (
            <SummaryChart summary={summary} label={info.label} />
          )}
        </div>
        <div className="mt-1 flex gap-3 text-[11px] text-muted">
          <span className="flex items-center gap-1">
            <span className="inline-block h-2.5 w-4 rounded-sm bg-[var(--chart-band)] opacity-40" /> min–max
          </span>
          <span className="flex items-center gap-1">
            <span className="inline-block h-0.5 w-4 bg-[var(--chart-1)]" /> median
          </span>
          <span className="flex items-center gap-1">
            <span className="inline-block h-0.5 w-4 bg-[var(--chart-2)]" /> p90
          </span>
        </div>
      </div>
    </section>
  );
}

/** SummaryChart: the across-layer band, median and p90 per step column, as plain SVG (no charting library). */
function SummaryChart({ summary, label }: { summary: ImbalanceSummaryModel; label: string }) {
  const { rows } = summary;
  const steps = rows.map((r) => r.step);
  const lo = rows.map((r) => r.band?.[0] ?? null);
  const hi = rows.map((r) => r.band?.[1] ?? null);
  const yDomain = summary.yDomain ?? [0, 1];
  return (
    <SvgPlot
      height={144}
      margin={{ top: 6, right: 16, bottom: 22, left: 44 }}
      xDomain={[steps[0], steps[steps.length - 1]]}
      yDomain={yDomain}
      yFormat={(v) => formatRatio(v)}
      xs={steps}
      refLines={[{ axis: "y", value: summary.reference, color: "var(--chart-ref)", dash: "6 4" }]}
      tooltip={(i) => {
        const row = rows[i];
        return (
          <>
            <div className="mb-1 font-semibold">
              step {row.step} · {label}
            </div>
            <div>
              min {formatRatio(row.band?.[0])} · median {formatRatio(row.median)} · p90 {formatRatio(row.p90)} · max {formatRatio(row.band?.[1])}
            </div>
          </>
        );
      }}
    >
      {({ x, y }) => (
        <>
          <path d={bandPath(steps, lo, hi, x, y)} fill="var(--chart-band)" fillOpacity={0.3} stroke="none" />
          <path d={polylinePath(steps, rows.map((r) => r.median), x, y)} fill="none" stroke="var(--chart-1)" strokeWidth={1.5} data-series="median" />
          <path d={polylinePath(steps, rows.map((r) => r.p90), x, y)} fill="none" stroke="var(--chart-2)" strokeWidth={1.5} data-series="p90" />
        </>
      )}
    </SvgPlot>
  );
}
