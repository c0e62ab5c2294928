import type { ImbalanceHeatmapDto, ImbalanceMetric } from "../dto";
import { LIGHT_HEAT_PALETTE, shadeColor, type HeatPalette } from "./utilizationColor";

/** ImbalanceMetricInfo: how one imbalance metric is named, read and coloured. */
export interface ImbalanceMetricInfo {
  metric: ImbalanceMetric;
  label: string;
  /** What the number means, one line. */
  description: string;
  /** Value drawn neutral (balanced). */
  balanced: number;
  /** Value at which the bad colour saturates. */
  saturate: number;
}

/** IMBALANCE_METRICS: the metrics of the layer x step heatmap, in selector order (EP imbalance first: it is what OOMs). */
export const IMBALANCE_METRICS: readonly ImbalanceMetricInfo[] = [
  { metric: "epImbalance", label: "EP imbalance", description: "max received / group mean over EP ranks, after capacity dropping (1 = balanced)", balanced: 1, saturate: 3 },
  { metric: "maxVio", label: "MaxVio", description: "hottest expert load / mean − 1, as the router chose (before capacity dropping) (0 = balanced)", balanced: 0, saturate: 2 },
  { metric: "cv", label: "CV", description: "std / mean of expert load, as the router chose (0 = balanced)", balanced: 0, saturate: 1.5 },
  { metric: "entropy", label: "Entropy", description: "normalized entropy of expert shares, as the router chose (1 = balanced; low is bad)", balanced: 1, saturate: 0.5 },
];

/** DEFAULT_IMBALANCE_METRIC: the metric shown when the URL names none. */
export const DEFAULT_IMBALANCE_METRIC: ImbalanceMetric = "epImbalance";

/** parseImbalanceMetric reads ?metric=; anything unknown falls back to the default. */
export function parseImbalanceMetric(raw: string | string[] | undefined | null): ImbalanceMetric {
  const v = Array.isArray(raw) ? raw[0] : raw;
  return IMBALANCE_METRICS.find((m) => m.metric === v)?.metric ?? DEFAULT_IMBALANCE_METRIC;
}

/** imbalanceMetricInfo returns the descriptor of a metric. */
export function imbalanceMetricInfo(metric: ImbalanceMetric): ImbalanceMetricInfo {
  return IMBALANCE_METRICS.find((m) => m.metric === metric)!;
}

/** imbalanceShade places a metric value on the heat scale: balanced (or better) -> 0, worse -> towards hot (1 at `saturate`), null -> NaN (empty). */
export function imbalanceShade(info: ImbalanceMetricInfo, v: number | null): number {
  if (v == null || !Number.isFinite(v)) return Number.NaN;
  const t = (v - info.balanced) / (info.saturate - info.balanced);
  return Math.max(0, Math.min(1, t));
}

/** imbalanceColor maps a metric value to a colour: balanced -> neutral, worse -> hot (saturating), null -> empty. */
export function imbalanceColor(info: ImbalanceMetricInfo, v: number | null, palette: HeatPalette = LIGHT_HEAT_PALETTE): string {
  return shadeColor(imbalanceShade(info, v), palette);
}

/** ImbalanceHeatmapRow: one MoE layer across step buckets. */
export interface ImbalanceHeatmapRow {
  layer: number;
  label: string;
  values: Array<number | null>;
  /** Each value's shade on the heat scale (imbalanceShade). */
  shades: number[];
  colors: string[];
}

/** ImbalanceHeatmapModel: the layer x step grid, its legend and the worst cell. */
export interface ImbalanceHeatmapModel {
  info: ImbalanceMetricInfo;
  reduce: "max" | "min";
  bucketSize: number;
  steps: number[];
  rows: ImbalanceHeatmapRow[];
  /** Cells with a value. */
  cellCount: number;
  /** The worst value anywhere (highest, or lowest for entropy). */
  worst: { layer: number; step: number; value: number } | null;
  legend: Array<{ value: number; color: string }>;
}

/** prepareImbalanceHeatmap colours the server's layer x step buckets (already reduced to the worst value per bucket). */
export function prepareImbalanceHeatmap(dto: ImbalanceHeatmapDto, palette: HeatPalette = LIGHT_HEAT_PALETTE): ImbalanceHeatmapModel {
  const info = imbalanceMetricInfo(dto.metric);
  const lowIsBad = info.saturate < info.balanced;
  let worst: ImbalanceHeatmapModel["worst"] = null;
  let cellCount = 0;
  const rows = dto.layers.map((layer, li): ImbalanceHeatmapRow => {
    const values = dto.steps.map((_, si) => dto.values[li]?.[si] ?? null);
    values.forEach((v, si) => {
      if (v == null) return;
      cellCount += 1;
      if (!worst || (lowIsBad ? v < worst.value : v > worst.value)) worst = { layer, step: dto.steps[si], value: v };
    });
    const shades = values.map((v) => imbalanceShade(info, v));
    return { layer, label: `L${layer}`, values, shades, colors: shades.map((s) => shadeColor(s, palette)) };
  });
  const span = info.saturate - info.balanced;
  const legend = [0, 0.25, 0.5, 0.75, 1].map((t) => {
    const value = Number((info.balanced + span * t).toPrecision(3));
    return { value, color: imbalanceColor(info, value, palette) };
  });
  return { info, reduce: dto.reduce, bucketSize: dto.bucketSize, steps: dto.steps, rows, cellCount, worst, legend };
}

/** ImbalanceSummaryRow: one step bucket of the cross-layer summary chart; band is [min, max]. */
export interface ImbalanceSummaryRow {
  step: number;
  band: [number, number] | null;
  median: number | null;
  p90: number | null;
}

/** ImbalanceSummaryModel: the rows of the cross-layer summary chart and the y range to show. */
export interface ImbalanceSummaryModel {
  rows: ImbalanceSummaryRow[];
  yDomain: [number, number] | null;
  /** The balanced level, drawn as a reference line. */
  reference: number;
}

/** prepareImbalanceSummary turns the per-bucket min/median/p90/max across layers into chart rows. */
export function prepareImbalanceSummary(dto: ImbalanceHeatmapDto): ImbalanceSummaryModel {
  const info = imbalanceMetricInfo(dto.metric);
  let lo = info.balanced;
  let hi = info.balanced;
  const rows = dto.summary.map((s): ImbalanceSummaryRow => {
    const band: [number, number] | null = s.min != null && s.max != null ? [s.min, s.max] : null;
    for (const v of [s.min, s.max, s.median, s.p90]) {
      if (v == null || !Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return { step: s.step, band, median: s.median, p90: s.p90 };
  });
  const has = rows.some((r) => r.band || r.median != null);
  const pad = hi > lo ? (hi - lo) * 0.05 : 0.05;
  return { rows, yDomain: has ? [Math.max(0, lo - pad), hi + pad] : null, reference: info.balanced };
}
