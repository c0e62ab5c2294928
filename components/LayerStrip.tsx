"use client";

import type { LayerInfoDto } from "@/lib/dto";
import { prepareLayerStrip } from "@/lib/ui/prepareLayerStrip";
import { useSearchParamsUpdater } from "./useSearchParamsUpdater";

/** LayerStrip shows every transformer layer as MoE or dense, grouped by pipeline stage; MoE layers are selectable. */
export function LayerStrip({ layers, selectedLayer }: { layers: LayerInfoDto[]; selectedLayer: number | null }) {
  const model = prepareLayerStrip(layers);
  const [update] = useSearchParamsUpdater();
  return (
    <section className="rounded-lg border border-line bg-surface p-4" data-testid="layer-strip">
      <header className="mb-2 flex flex-wrap items-baseline gap-x-4 text-sm">
        <h2 className="font-semibold">Layers</h2>
        <span className="text-xs text-muted">
          {model.moeCount} MoE · {model.denseCount} dense · {model.stages.length} pipeline stage{model.stages.length === 1 ? "" : "s"}
        </span>
        <span className="ml-auto flex items-center gap-3 text-[11px] text-muted">
          <span className="flex items-center gap-1">
            <span className="inline-block h-3 w-3 rounded-sm bg-accent" /> MoE
          </span>
          <span className="flex items-center gap-1">
            <span className="inline-block h-3 w-3 rounded-sm border border-line bg-surface-2" /> dense (no expert telemetry)
          </span>
        </span>
      </header>
      <div className="flex flex-wrap gap-3">
        {model.stages.map((s) => (
          <div key={s.stage} className="flex flex-col gap-1">
            <span className="text-[10px] uppercase tracking-wide text-muted">PP stage {s.stage}</span>
            <div className="flex flex-wrap gap-0.5">
              {s.layers.map((l) =>
                l.moe ? (
                  <button
                    key={l.layer}
                    type="button"
                    onClick={() => update({ layer: l.layer })}
                    aria-pressed={l.layer === selectedLayer}
                    title={`layer ${l.layer}: MoE, stage ${l.stage}`}
                    data-testid="layer-chip"
                    data-moe="true"
                    className={`h-6 min-w-6 rounded-sm px-1 text-[10px] font-medium ${
                      l.layer === selectedLayer
                        ? "bg-fg text-bg ring-2 ring-accent ring-offset-1 ring-offset-surface"
                        : "bg-accent text-white hover:opacity-80 dark:text-bg"
                    }`}
                  >
                    {l.layer}
                  </button>
                ) : (
                  <span
                    key={l.layer}
                    title={`layer ${l.layer}: dense, stage ${l.stage}`}
                    data-testid="layer-chip"
                    data-moe="false"
                    className="inline-flex h-6 min-w-6 items-center justify-center rounded-sm border border-line bg-surface-2 px-1 text-[10px] text-muted"
                  >
                    {l.layer}
                  </span>
                ),
              )}
            </div>
          </div>
        ))}
      </div>
    </section>
  );
}
