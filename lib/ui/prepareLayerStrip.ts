import type { LayerInfoDto } from "../dto";

/** LayerStripStage: the layers of one pipeline stage, in order. */
export interface LayerStripStage {
  stage: number;
  layers: LayerInfoDto[];
  moeCount: number;
}

/** LayerStripModel: layers grouped by pipeline stage, with totals. */
export interface LayerStripModel {
  stages: LayerStripStage[];
  moeCount: number;
  denseCount: number;
}

/** prepareLayerStrip groups layers by pipeline stage so the strip shows MoE vs dense per stage. */
export function prepareLayerStrip(layers: readonly LayerInfoDto[]): LayerStripModel {
  const byStage = new Map<number, LayerInfoDto[]>();
  for (const l of [...layers].sort((a, b) => a.layer - b.layer)) {
    const list = byStage.get(l.stage) ?? [];
    list.push(l);
    byStage.set(l.stage, list);
  }
  const stages = [...byStage.entries()]
    .sort(([a], [b]) => a - b)
    .map(([stage, ls]) => ({ stage, layers: ls, moeCount: ls.filter((l) => l.moe).length }));
  const moeCount = layers.filter((l) => l.moe).length;
  return { stages, moeCount, denseCount: layers.length - moeCount };
}
