import type { LossName } from "../analysis/types";
import type { LossSeriesDto, RunEventDto } from "../dto";
import { CHART_COLORS, EVENT_COLORS } from "./chartColors";
import { LOAD_BALANCING_LOSSES } from "./pickAuxLoss";

/** LossChartRow: one step of the chart; `l{layer}` is the mean, `l{layer}_band` and `envelope` are [min, max]. */
export type LossChartRow = { step: number } & Record<string, number | [number, number] | null>;

/** LossChartLine: one MoE layer's line. */
export interface LossChartLine {
  key: string;
  layer: number;
  name: string;
  color: string;
  highlighted: boolean;
}

/** LossChartMarker: events of one kind at one step, drawn as a vertical reference line. */
export interface LossChartMarker {
  step: number;
  kind: RunEventDto["kind"];
  label: string;
  color: string;
  ranks: number[];
}

/** LossChartModel: a recharts-ready model of one loss over steps for every MoE layer. */
export interface LossChartModel {
  loss: LossName;
  rows: LossChartRow[];
  lines: LossChartLine[];
  /** Data key of the highlighted layer's min/max band, or null. */
  bandKey: string | null;
  /** Data key of the min/max envelope over all layers (so a spike in any layer stays visible). */
  envelopeKey: "envelope";
  markers: LossChartMarker[];
  /** Points received from the server across all layers of this loss. */
  pointCount: number;
  bucketSize: number;
  yDomain: [number, number] | null;
  /** Horizontal reference (1.0 for switch-style load-balancing losses). */
  reference: { y: number; label: string } | null;
}

/** LossChartOptions: which loss to chart, which layer to emphasise, which colours to use. */
export interface LossChartOptions {
  loss: LossName;
  highlightLayer?: number | null;
  colors?: readonly string[];
}

/** lineKey is the data key of a layer's mean line. */
export function lineKey(layer: number): string {
  return `l${layer}`;
}

/** prepareLossChart merges per-layer series into rows by step, adds min/max bands and event markers. */
export function prepareLossChart(
  series: LossSeriesDto,
  events: readonly RunEventDto[],
  opts: LossChartOptions,
): LossChartModel {
  const colors = opts.colors ?? CHART_COLORS;
  const chosen = series.series.filter((s) => s.loss === opts.loss).sort((a, b) => a.layer - b.layer);
  const allLayers = [...new Set(series.series.map((s) => s.layer))].sort((a, b) => a - b);
  const highlight = opts.highlightLayer != null && chosen.some((s) => s.layer === opts.highlightLayer)
    ? opts.highlightLayer
    : null;

  const byStep = new Map<number, LossChartRow>();
  let pointCount = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of chosen) {
    const key = lineKey(s.layer);
    for (const p of s.points) {
      if (!Number.isFinite(p.value)) continue;
      pointCount += 1;
      let row = byStep.get(p.step);
      if (!row) {
        row = { step: p.step } as LossChartRow;
        byStep.set(p.step, row);
      }
      const min = Number.isFinite(p.min) ? Math.min(p.min, p.value) : p.value;
      const max = Number.isFinite(p.max) ? Math.max(p.max, p.value) : p.value;
      row[key] = p.value;
      if (s.layer === highlight) row[`${key}_band`] = [min, max];
      const env = row.envelope as [number, number] | undefined;
      row.envelope = env ? [Math.min(env[0], min), Math.max(env[1], max)] : [min, max];
      lo = Math.min(lo, min);
      hi = Math.max(hi, max);
    }
  }
  const rows = [...byStep.values()].sort((a, b) => a.step - b.step);

  const lines = chosen.map((s): LossChartLine => ({
    key: lineKey(s.layer),
    layer: s.layer,
    name: `layer ${s.layer}`,
    color: colors[allLayers.indexOf(s.layer) % colors.length],
    highlighted: s.layer === highlight,
  }));

  const reference = LOAD_BALANCING_LOSSES.includes(opts.loss) ? { y: 1, label: "1.0 = perfectly balanced" } : null;
  let yDomain: [number, number] | null = null;
  if (pointCount > 0) {
    if (reference) {
      lo = Math.min(lo, reference.y);
      hi = Math.max(hi, reference.y);
    }
    const pad = hi > lo ? (hi - lo) * 0.05 : Math.max(Math.abs(hi) * 0.05, 0.01);
    yDomain = [lo - pad, hi + pad];
  }

  return {
    loss: opts.loss,
    rows,
    lines,
    bandKey: highlight != null ? `${lineKey(highlight)}_band` : null,
    envelopeKey: "envelope",
    markers: groupEvents(events),
    pointCount,
    bucketSize: series.bucketSize,
    yDomain,
    reference,
  };
}

/** groupEvents folds events of the same kind at the same step into one marker listing the ranks. */
export function groupEvents(events: readonly RunEventDto[]): LossChartMarker[] {
  const groups = new Map<string, LossChartMarker>();
  for (const ev of events) {
    const id = `${ev.kind}@${ev.step}`;
    let g = groups.get(id);
    if (!g) {
      g = { step: ev.step, kind: ev.kind, label: "", color: EVENT_COLORS[ev.kind], ranks: [] };
      groups.set(id, g);
    }
    if (!g.ranks.includes(ev.rank)) g.ranks.push(ev.rank);
  }
  const out = [...groups.values()].sort((a, b) => a.step - b.step || a.kind.localeCompare(b.kind));
  for (const g of out) {
    g.ranks.sort((a, b) => a - b);
    const name = g.kind === "oom" ? "OOM" : g.kind === "crash" ? "crash" : "finished";
    const who = g.kind === "finished" ? "" : g.ranks.length === 1 ? ` r${g.ranks[0]}` : ` ×${g.ranks.length}`;
    g.label = `${name}${who}`;
  }
  return out;
}

/**
 * linePath builds the SVG path of one layer's line through `rows` (points without a value are skipped and
 * the line joins its neighbours, as recharts' `connectNulls` does). With 64 MoE layers the chart draws the
 * non-highlighted layers as plain paths instead of 64 recharts `<Line>` series: each series costs recharts
 * its own store entries, point objects and re-renders, which was most of the run page's browser time.
 * Returns "" when no point maps to a pixel.
 */
export function linePath(
  rows: readonly LossChartRow[],
  key: string,
  x: (step: number) => number | undefined,
  y: (value: number) => number | undefined,
): string {
  let d = "";
  for (const row of rows) {
    const v = row[key];
    if (typeof v !== "number") continue;
    const px = x(row.step);
    const py = y(v);
    if (px === undefined || py === undefined || !Number.isFinite(px) || !Number.isFinite(py)) continue;
    d += `${d ? "L" : "M"}${Math.round(px * 10) / 10},${Math.round(py * 10) / 10}`;
  }
  return d;
}
