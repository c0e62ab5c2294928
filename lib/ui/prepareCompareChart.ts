import type { CompareDto, CompareSeriesDto } from "../dto";
import { CHART_COLORS } from "./chartColors";
import { niceTicks } from "./chartGeometry";

/** CompareRow: one x of the overlay; `r{i}` is run i's value and `r{i}_band` its bucket [min, max]. */
export type CompareRow = { x: number } & Record<string, number | [number, number] | null>;

/** CompareLine: one run's line. */
export interface CompareLine {
  key: string;
  runId: string;
  name: string;
  color: string;
  points: number;
}

/** CompareChartModel: one metric of one layer, every run overlaid. */
export interface CompareChartModel {
  metric: CompareSeriesDto["metric"];
  layer: number | null;
  rows: CompareRow[];
  lines: CompareLine[];
  /** Reference line (1.0 for the aux loss and EP imbalance, 0 for MaxVio). */
  reference: number;
  /** Round x ticks (steps 100, 200, …; never recharts' 1/151/301/451 from the data's first x). */
  xTicks: number[];
}

/** METRIC_LABELS: titles of the compared metrics. */
export const METRIC_LABELS: Record<CompareSeriesDto["metric"], string> = {
  auxLoss: "Load-balancing (aux) loss",
  maxVio: "MaxVio",
  epImbalance: "EP imbalance (worst EP rank / group mean)",
};

/** prepareCompareChart overlays one metric of one layer (the first MoE layer each run has when `layer` is null) of every run, merged by x. */
export function prepareCompareChart(dto: CompareDto, metric: CompareSeriesDto["metric"], layer: number | null, colors: readonly string[] = CHART_COLORS): CompareChartModel {
  const byX = new Map<number, CompareRow>();
  const lines: CompareLine[] = dto.runs.map((run, i) => {
    const key = `r${i}`;
    const l = layer ?? run.moeLayers[0] ?? null;
    const s = run.series.find((x) => x.metric === metric && x.layer === l);
    for (const p of s?.points ?? []) {
      if (!Number.isFinite(p.value)) continue;
      let row = byX.get(p.x);
      if (!row) byX.set(p.x, (row = { x: p.x } as CompareRow));
      row[key] = p.value;
      row[`${key}_band`] = [Math.min(p.min, p.value), Math.max(p.max, p.value)];
    }
    return { key, runId: run.id, name: run.name, color: colors[i % colors.length], points: s?.points.length ?? 0 };
  });
  const rows = [...byX.values()].sort((a, b) => a.x - b.x);
  return {
    metric,
    layer,
    rows,
    lines,
    reference: metric === "maxVio" ? 0 : 1,
    xTicks: rows.length > 0 ? niceTicks(rows[0].x, rows[rows.length - 1].x, 6, true) : [],
  };
}

/** commonLayers lists the MoE layers every run of the comparison has. */
export function commonLayers(dto: Pick<CompareDto, "runs">): number[] {
  if (dto.runs.length === 0) return [];
  return dto.runs[0].moeLayers.filter((l) => dto.runs.every((r) => r.moeLayers.includes(l)));
}
