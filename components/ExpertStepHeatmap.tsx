"use client";

import { useMemo } from "react";
import type { ExpertHeatmapDto } from "@/lib/dto";
import { formatCount, formatPercent, formatRatio } from "@/lib/ui/formatCount";
import { isDeadUtilization } from "@/lib/ui/utilizationColor";
import { prepareExpertHeatmap } from "@/lib/ui/prepareExpertHeatmap";
import { HeatmapCanvas } from "./HeatmapCanvas";
import { HeatmapLegend } from "./HeatmapLegend";
import { useCanvasTheme } from "./useCanvasTheme";
import { useSearchParamsUpdater } from "./useSearchParamsUpdater";

/** ExpertStepHeatmap: experts x steps for one layer; click a column to pin that step in the layer heatmap. */
export function ExpertStepHeatmap({ dto, selectedStep }: { dto: ExpertHeatmapDto | null; selectedStep: number | null }) {
  const theme = useCanvasTheme();
  const model = useMemo(() => (dto ? prepareExpertHeatmap(dto, theme.palette) : null), [dto, theme.palette]);
  const [update, pending] = useSearchParamsUpdater();
  const columns = model?.columns ?? [];
  const numExperts = model?.numExperts ?? 0;
  const cellHeight = Math.max(2, Math.min(16, Math.floor(480 / Math.max(numExperts, 1))));
  const bucket = model?.bucketSize ?? 1;
  let highlightCol: number | null = null;
  if (selectedStep != null) {
    const i = columns.findIndex((c) => selectedStep >= c.step && selectedStep < c.step + bucket);
    highlightCol = i >= 0 ? i : null;
  }

  return (
    <section
      className="rounded-lg border border-line bg-surface p-4"
      data-testid="expert-step-heatmap"
      data-cells={model?.cellCount ?? 0}
      data-columns={columns.length}
      aria-busy={pending}
    >
      <header className="mb-2 flex flex-wrap items-baseline gap-x-4 gap-y-1">
        <h2 className="text-sm font-semibold">
          Experts over steps <span className="font-normal text-muted">layer {model?.layer ?? "–"}</span>
        </h2>
        <span className="text-xs text-muted" data-testid="expert-step-heatmap-count">
          {(model?.cellCount ?? 0).toLocaleString("en-US")} cells · {columns.length} columns × {numExperts} experts
        </span>
        <span className="text-xs text-muted">
          {bucket > 1 ? `${bucket} steps per column (max load per expert kept)` : "one column per step"}
        </span>
      </header>
      <HeatmapLegend palette={theme.palette} />
      <div className="mt-3">
        {!model || columns.length === 0 ? (
          <p className="py-10 text-center text-sm text-muted">No steps reported for this layer yet.</p>
        ) : (
          <HeatmapCanvas
            rows={numExperts}
            cols={columns.length}
            cellHeight={cellHeight}
            theme={theme}
            colorAt={(r, c) => columns[c].colors[r]}
            shadeAt={(r, c) => columns[c].shades[r]}
            deadAt={(r, c) => columns[c].total > 0 && isDeadUtilization(columns[c].utilization[r])}
            rowLabel={(r) => `E${r}`}
            colLabel={(c) => String(columns[c].step)}
            colAxis="step"
            highlightCol={highlightCol}
            onCellClick={(_r, c) => update({ step: columns[c].step })}
            ariaLabel={`Expert utilization over ${columns.length} step columns for layer ${model.layer}`}
            testId="expert-step-heatmap"
            tooltip={(r, c) => {
              const col = columns[c];
              return (
                <dl className="grid grid-cols-[auto_auto] gap-x-3 gap-y-0.5">
                  <dt className="text-muted">step</dt>
                  <dd className="font-medium">{bucket > 1 ? `${col.step}–${col.step + bucket - 1}` : col.step}</dd>
                  <dt className="text-muted">expert</dt>
                  <dd className="font-medium">E{r}</dd>
                  <dt className="text-muted">tokens{bucket > 1 ? " (max)" : ""}</dt>
                  <dd>{formatCount(col.load[r])}</dd>
                  <dt className="text-muted">share</dt>
                  <dd>{formatPercent(col.share[r])}</dd>
                  <dt className="text-muted">utilization</dt>
                  <dd className="font-medium">{formatRatio(col.utilization[r])}×</dd>
                </dl>
              );
            }}
          />
        )}
      </div>
      <p className="mt-1 text-[11px] text-muted">Click a column to show that step in the layer heatmap.</p>
    </section>
  );
}
