import type { LayerHeatmapDto } from "../dto";
import { utilizationOf } from "./utilizationOf";
import { LIGHT_HEAT_PALETTE, shadeColor, utilizationShade, type HeatPalette } from "./utilizationColor";

/** LayerHeatmapRow: one MoE layer of the layers x experts heatmap. */
export interface LayerHeatmapRow {
  layer: number;
  label: string;
  ranksReported: number;
  ranksExpected: number;
  /** True when no rank reported this layer at the step (row drawn empty). */
  missing: boolean;
  total: number;
  mean: number;
  load: number[];
  share: number[];
  utilization: number[];
  /** Each expert's shade on the heat scale (utilizationShade; NaN for a missing row). */
  shades: number[];
  colors: string[];
  maxUtilization: number;
  dead: number;
}

/** LayerHeatmapModel: everything the layers x experts heatmap renders. */
export interface LayerHeatmapModel {
  step: number | null;
  numExperts: number;
  rows: LayerHeatmapRow[];
  /** Cells that carry data (rows with reports x experts). */
  cellCount: number;
  maxUtilization: number;
  deadCount: number;
  /** The hottest cell, to point at in the summary line. */
  hottest: { layer: number; expert: number; utilization: number } | null;
}

/** prepareLayerHeatmap turns a LayerHeatmapDto into rows of per-expert utilization (load / layer mean) and colours. */
export function prepareLayerHeatmap(dto: LayerHeatmapDto, palette: HeatPalette = LIGHT_HEAT_PALETTE): LayerHeatmapModel {
  const rows = [...dto.rows]
    .sort((a, b) => a.layer - b.layer)
    .map((row): LayerHeatmapRow => {
      const load = row.load.length === dto.numExperts ? row.load : padTo(row.load, dto.numExperts);
      const stats = utilizationOf(load);
      const missing = row.ranksReported === 0 || stats.total === 0;
      const shades = stats.utilization.map((u) => utilizationShade(missing ? null : u));
      return {
        layer: row.layer,
        label: `L${row.layer}`,
        ranksReported: row.ranksReported,
        ranksExpected: row.ranksExpected,
        missing,
        total: stats.total,
        mean: stats.mean,
        load,
        share: stats.share,
        utilization: stats.utilization,
        shades,
        colors: shades.map((s) => shadeColor(s, palette)),
        maxUtilization: stats.maxUtilization,
        dead: missing ? 0 : stats.dead,
      };
    });
  let cellCount = 0;
  let maxUtilization = Number.NaN;
  let deadCount = 0;
  let hottest: LayerHeatmapModel["hottest"] = null;
  for (const row of rows) {
    if (row.missing) continue;
    cellCount += row.load.length;
    deadCount += row.dead;
    row.utilization.forEach((u, expert) => {
      if (!(u <= maxUtilization)) {
        maxUtilization = u;
        hottest = { layer: row.layer, expert, utilization: u };
      }
    });
  }
  return { step: dto.step, numExperts: dto.numExperts, rows, cellCount, maxUtilization, deadCount, hottest };
}

function padTo(load: number[], n: number): number[] {
  const out = load.slice(0, n);
  while (out.length < n) out.push(0);
  return out;
}
