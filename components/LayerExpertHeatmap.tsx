"use client";

import { useMemo } from "react";
import type { LayerHeatmapDto } from "@/lib/dto";
import { formatCount, formatPercent, formatRatio } from "@/lib/ui/formatCount";
import { isDeadUtilization } from "@/lib/ui/utilizationColor";
import { prepareLayerHeatmap } from "@/lib/ui/prepareLayerHeatmap";
import { HeatmapCanvas } from "./HeatmapCanvas";
import { HeatmapLegend } from "./HeatmapLegend";
import { useCanvasTheme } from "./useCanvasTheme";
import { useSearchParamsUpdater } from "./useSearchParamsUpdater";

/** LayerExpertHeatmap: MoE layers x experts at one step, coloured by utilization; click a row to select the layer. */
export function LayerExpertHeatmap({
  dto,
  selectedLayer,
  pinnedStep,
}: {
  dto: LayerHeatmapDto | null;
  selectedLayer: number | null;
  pinnedStep: boolean;
}) {
  const theme = useCanvasTheme();
  const model = useMemo(() => (dto ? prepareLayerHeatmap(dto, theme.palette) : null), [dto, theme.palette]);
  const [update, pending] = useSearchParamsUpdater();
  const rows = model?.rows ?? [];
  const cellHeight = Math.max(6, Math.min(22, Math.floor(520 / Math.max(rows.length, 1))));
  const highlightRow = rows.findIndex((r) => r.layer === selectedLayer);

  return (
    <section
      className="rounded-lg border border-line bg-surface p-4"
      data-testid="layer-expert-heatmap"
      data-cells={model?.cellCount ?? 0}
      data-step={model?.step ?? ""}
      aria-busy={pending}
    >
      <header className="mb-2 flex flex-wrap items-baseline gap-x-4 gap-y-1">
        <h2 className="text-sm font-semibold">
          Expert load by layer{" "}
          <span className="font-normal text-muted">
            at step {model?.step ?? "–"}
            {pinnedStep ? " (pinned)" : " (latest)"}
          </span>
        </h2>
        <span className="text-xs text-muted" data-testid="layer-expert-heatmap-count">
          {(model?.cellCount ?? 0).toLocaleString("en-US")} cells · {rows.length} MoE layers × {model?.numExperts ?? 0} experts
        </span>
        {model?.hottest && (
          <span className="text-xs text-muted">
            hottest: L{model.hottest.layer} E{model.hottest.expert} at{" "}
            <b className="text-fg">{formatRatio(model.hottest.utilization)}×</b>
          </span>
        )}
        {model && model.deadCount > 0 && (
          <span className="text-xs text-danger">{model.deadCount} dead expert slots</span>
        )}
      </header>
      <HeatmapLegend palette={theme.palette} />
      <div className="mt-3">
        {!model || rows.length === 0 ? (
          <p className="py-10 text-center text-sm text-muted">No expert counts yet for this step.</p>
        ) : (
          <HeatmapCanvas
            rows={rows.length}
            cols={model.numExperts}
            cellHeight={cellHeight}
            theme={theme}
            colorAt={(r, c) => rows[r].colors[c]}
            shadeAt={(r, c) => rows[r].shades[c]}
            deadAt={(r, c) => !rows[r].missing && isDeadUtilization(rows[r].utilization[c])}
            rowLabel={(r) => rows[r].label}
            colLabel={(c) => `E${c}`}
            colAxis="expert"
            highlightRow={highlightRow >= 0 ? highlightRow : null}
            onCellClick={(r) => update({ layer: rows[r].layer })}
            ariaLabel={`Expert utilization heatmap, ${rows.length} layers by ${model.numExperts} experts at step ${model.step}`}
            testId="layer-expert-heatmap"
            tooltip={(r, c) => {
              const row = rows[r];
              return (
                <dl className="grid grid-cols-[auto_auto] gap-x-3 gap-y-0.5">
                  <dt className="text-muted">layer / expert</dt>
                  <dd className="font-medium">
                    L{row.layer} · E{c}
                  </dd>
                  <dt className="text-muted">tokens</dt>
                  <dd>{row.missing ? "no report" : formatCount(row.load[c])}</dd>
                  <dt className="text-muted">share</dt>
                  <dd>{formatPercent(row.share[c])}</dd>
                  <dt className="text-muted">utilization</dt>
                  <dd className="font-medium">{formatRatio(row.utilization[c])}×</dd>
                  <dt className="text-muted">ranks</dt>
                  <dd>
                    {row.ranksReported}/{row.ranksExpected}
                  </dd>
                </dl>
              );
            }}
          />
        )}
      </div>
      <p className="mt-1 text-[11px] text-muted">Click a row to chart that layer over steps.</p>
    </section>
  );
}
