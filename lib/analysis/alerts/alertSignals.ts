/**
 * Turns what the collector just stored into observations for the alert rules: one value per
 * (rule, layer or rank) instance, computed from the same aggregates the dashboard shows.
 */
import type { LayerAggregate } from "../aggregateLayer";
import type { StepSample } from "../types";
import type { AlertRuleId } from "./alertRules";

/** AlertSignal: one observation for one alert instance. */
export interface AlertSignal {
  ruleId: AlertRuleId;
  /** Instance key within a run: "layer:17", "rank:37" or "run". */
  scope: string;
  layer: number | null;
  rank: number | null;
  value: number;
  step: number;
  /** Context shown with the alert (worst EP rank, group, ...). */
  labels: Record<string, string | number>;
}

/** median of a non-empty list (mean of the middle two for even lengths). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** LossPoint: one complete (step, layer) aggregate's losses, as the spike rules' baselines need them. */
export interface LossPoint {
  step: number;
  aux: number | null;
  z: number | null;
}

/**
 * lossBaseline: the values the spike rules compare a step with: per loss, the last `windows[loss]` non-null values
 * of the points before `step`, in step order. `history` is one layer's points in ascending step order; the
 * search is binary and the walk back stops at the window, so judging a flush of many steps costs O(window)
 * per step, not O(history).
 */
export function lossBaseline(history: readonly LossPoint[], step: number, windows: { aux: number; z: number }): { aux: number[]; z: number[] } {
  let end = 0;
  let hi = history.length;
  while (end < hi) {
    const mid = (end + hi) >>> 1;
    if (history[mid].step < step) end = mid + 1;
    else hi = mid;
  }
  const lastValues = (key: "aux" | "z") => {
    const out: number[] = [];
    for (let i = end - 1; i >= 0 && out.length < windows[key]; i--) {
      const v = history[i][key];
      if (v !== null) out.push(v);
    }
    return out.reverse();
  };
  return { aux: lastValues("aux"), z: lastValues("z") };
}

/** spikeRatio is value / median(previous values), or null without a usable baseline. */
export function spikeRatio(value: number, previous: number[], minBaseline = 5): number | null {
  if (previous.length < minBaseline) return null;
  const m = median(previous);
  return m > 0 ? value / m : null;
}

/** signalsFromAggregate yields the per-layer observations of one complete (step, layer) aggregate. */
export function signalsFromAggregate(
  agg: Pick<LayerAggregate, "step" | "layer" | "maxVio" | "epImbalance" | "epWorst" | "losses"> & { dropFraction?: number | null },
  previous: { aux: number[]; z: number[] },
): AlertSignal[] {
  const scope = `layer:${agg.layer}`;
  const out: AlertSignal[] = [];
  const push = (ruleId: AlertRuleId, value: number | null | undefined, labels: AlertSignal["labels"] = {}) => {
    if (value !== null && value !== undefined && Number.isFinite(value)) {
      out.push({ ruleId, scope, layer: agg.layer, rank: null, value, step: agg.step, labels });
    }
  };
  push("ep-imbalance-high", agg.epImbalance, agg.epWorst ? { edp: agg.epWorst.edp, epRank: agg.epWorst.epRank } : {});
  push("maxvio-high", agg.maxVio);
  push("drop-fraction-high", agg.dropFraction);
  const aux = agg.losses.load_balancing_loss;
  push("aux-loss-high", aux);
  if (aux !== undefined) push("aux-loss-spike", spikeRatio(aux, previous.aux), { value: aux });
  const z = agg.losses.z_loss;
  push("z-loss-high", z);
  if (z !== undefined) push("z-loss-spike", spikeRatio(z, previous.z), { value: z });
  return out;
}

/** signalsFromStepSample yields the per-rank observations of one step sample; `previous` is the rank's last retry count seen. */
export function signalsFromStepSample(
  rank: number,
  sample: StepSample,
  previous: { step: number; numAllocRetries: number } | undefined,
  gpuMemoryBytes: number,
): AlertSignal[] {
  const scope = `rank:${rank}`;
  const out: AlertSignal[] = [
    // Any data from a rank is a "still reporting" observation (value 0 < threshold); silence fires.
    { ruleId: "rank-silent", scope, layer: null, rank, value: 0, step: sample.step, labels: {} },
  ];
  const m = sample.memory;
  if (m && gpuMemoryBytes > 0) {
    out.push({ ruleId: "memory-headroom-low", scope, layer: null, rank, value: m.peakAllocatedBytes / gpuMemoryBytes, step: sample.step, labels: { peakAllocatedBytes: m.peakAllocatedBytes, gpuMemoryBytes } });
  }
  if (m) {
    // The first sample has no baseline: it only records the count.
    const grew = previous && previous.step < sample.step ? m.numAllocRetries - previous.numAllocRetries : 0;
    out.push({ ruleId: "alloc-retries-growing", scope, layer: null, rank, value: grew, step: sample.step, labels: { numAllocRetries: m.numAllocRetries } });
  }
  return out;
}
