import type { ExpertHeatmapDto } from "../dto";
import { utilizationOf } from "./utilizationOf";
import { LIGHT_HEAT_PALETTE, shadeColor, utilizationShade, type HeatPalette } from "./utilizationColor";

/** ExpertHeatmapColumn: one bucket of steps of the experts x steps heatmap. */
export interface ExpertHeatmapColumn {
  step: number;
  total: number;
  load: number[];
  share: number[];
  utilization: number[];
  /** Each expert's shade on the heat scale (utilizationShade; NaN for a column without tokens). */
  shades: number[];
  colors: string[];
  maxUtilization: number;
  dead: number;
}

/** ExpertHeatmapModel: everything the experts x steps heatmap of one layer renders. */
export interface ExpertHeatmapModel {
  layer: number;
  numExperts: number;
  bucketSize: number;
  columns: ExpertHeatmapColumn[];
  cellCount: number;
  firstStep: number | null;
  lastStep: number | null;
  /** Per expert, the largest utilization over all columns: which experts were ever hot. */
  peakUtilization: number[];
}

/** prepareExpertHeatmap turns an ExpertHeatmapDto into columns (ascending steps) of utilization and colours. */
export function prepareExpertHeatmap(
  dto: ExpertHeatmapDto,
  palette: HeatPalette = LIGHT_HEAT_PALETTE,
): ExpertHeatmapModel {
  const columns = [...dto.columns]
    .sort((a, b) => a.step - b.step)
    .map((col): ExpertHeatmapColumn => {
      const stats = utilizationOf(col.load);
      const shades = stats.utilization.map((u) => utilizationShade(stats.total > 0 ? u : null));
      return {
        step: col.step,
        total: stats.total,
        load: col.load,
        share: stats.share,
        utilization: stats.utilization,
        shades,
        colors: shades.map((s) => shadeColor(s, palette)),
        maxUtilization: stats.maxUtilization,
        dead: stats.dead,
      };
    });
  const peakUtilization = new Array<number>(dto.numExperts).fill(Number.NaN);
  let cellCount = 0;
  for (const col of columns) {
    if (col.total <= 0) continue;
    cellCount += col.load.length;
    col.utilization.forEach((u, e) => {
      if (e < peakUtilization.length && !(u <= peakUtilization[e])) peakUtilization[e] = u;
    });
  }
  return {
    layer: dto.layer,
    numExperts: dto.numExperts,
    bucketSize: dto.bucketSize,
    columns,
    cellCount,
    firstStep: columns.length > 0 ? columns[0].step : null,
    lastStep: columns.length > 0 ? columns[columns.length - 1].step : null,
    peakUtilization,
  };
}
