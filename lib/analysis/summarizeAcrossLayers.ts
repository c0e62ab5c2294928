/**
 * Per-step summary of a metric across a run's MoE layers (e.g. MaxVio of every layer), so a run-level
 * chart shows spread and tail, not just an average that hides one bad layer.
 */
import { InvalidInput } from "./errors";

/** LayerSummary: min, median, 90th percentile and max of one metric across layers; null when there are no values. */
export interface LayerSummary {
  min: number | null;
  median: number | null;
  p90: number | null;
  max: number | null;
  count: number;
}

/**
 * Percentile by linear interpolation between closest ranks (numpy.percentile's default "linear"
 * method): position (n-1)*q in the sorted values, interpolating between its floor and ceiling.
 */
function percentile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** summarizeAcrossLayers returns min, median, p90 (numpy-style linear interpolation), max and count of finite values. */
export function summarizeAcrossLayers(values: number[]): LayerSummary {
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new InvalidInput(`values[${i}] is ${v}, expected a finite number`, "values");
  });
  if (values.length === 0) return { min: null, median: null, p90: null, max: null, count: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0],
    median: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    max: sorted[sorted.length - 1],
    count: sorted.length,
  };
}
