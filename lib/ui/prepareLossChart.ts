import type { LossName } from "../analysis/types";
import type { LossSeriesDto, RunEventDto } from "../dto";
import { CHART_COLORS, EVENT_COLORS } from "./chartColors";
import { LOAD_BALANCING_LOSSES } from "./pickAuxLoss";

/** LossChartLine: one MoE layer's line; `values[i]` is its mean at `steps[i]` (null where it has no point). */
export interface LossChartLine {
  key: string;
  layer: number;
  name: string;
  color: string;
  highlighted: boolean;
  values: (number | null)[];
}

/** LossChartMarker: events of one kind at one step, drawn as a vertical reference line. */
export interface LossChartMarker {
  step: number;
  kind: RunEventDto["kind"];
  label: string;
  color: string;
  ranks: number[];
}

/** LossChartBand: per-step [lo, hi] bounds aligned with the model's steps (null where nothing was reported). */
export interface LossChartBand {
  lo: (number | null)[];
  hi: (number | null)[];
}

/**
 * LossChartModel: one loss over steps for every MoE layer, in columns: one step axis shared by every line
 * (what the page serializes stays small at 64 layers, and drawing needs no per-step objects).
 */
export interface LossChartModel {
  loss: LossName;
  /** Every step any layer has a point at, ascending. */
  steps: number[];
  lines: LossChartLine[];
  /** Min/max over all layers per step (so a spike in any layer stays visible). */
  envelope: LossChartBand;
  /** The highlighted layer's own min/max per step, or null. */
  band: LossChartBand | null;
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

/** lineKey is the key of a layer's line. */
function lineKey(layer: number): string {
  return `l${layer}`;
}

/** prepareLossChart aligns per-layer series on one step axis, adds the min/max envelope, band and event markers. */
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

  const stepSet = new Set<number>();
  for (const s of chosen) for (const p of s.points) if (Number.isFinite(p.value)) stepSet.add(p.step);
  const steps = [...stepSet].sort((a, b) => a - b);
  const at = new Map(steps.map((st, i) => [st, i]));
  const nulls = () => Array<number | null>(steps.length).fill(null);
  const envelope: LossChartBand = { lo: nulls(), hi: nulls() };
  const band: LossChartBand | null = highlight != null ? { lo: nulls(), hi: nulls() } : null;

  let pointCount = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  const lines = chosen.map((s): LossChartLine => {
    const values = nulls();
    for (const p of s.points) {
      if (!Number.isFinite(p.value)) continue;
      pointCount += 1;
      const i = at.get(p.step)!;
      const min = Number.isFinite(p.min) ? Math.min(p.min, p.value) : p.value;
      const max = Number.isFinite(p.max) ? Math.max(p.max, p.value) : p.value;
      values[i] = p.value;
      if (band && s.layer === highlight) {
        band.lo[i] = min;
        band.hi[i] = max;
      }
      envelope.lo[i] = envelope.lo[i] === null ? min : Math.min(envelope.lo[i]!, min);
      envelope.hi[i] = envelope.hi[i] === null ? max : Math.max(envelope.hi[i]!, max);
      lo = Math.min(lo, min);
      hi = Math.max(hi, max);
    }
    return {
      key: lineKey(s.layer),
      layer: s.layer,
      name: `layer ${s.layer}`,
      color: colors[allLayers.indexOf(s.layer) % colors.length],
      highlighted: s.layer === highlight,
      values,
    };
  });

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
    steps,
    lines,
    envelope,
    band,
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
