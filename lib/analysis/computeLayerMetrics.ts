/**
 * Imbalance metrics of one MoE layer's global expert load (DESIGN.md "Metric definitions"):
 * share f = L/sum(L), utilization u = L/mean, MaxVio = max(L)/mean - 1 (Wang et al., "Auxiliary-Loss-Free
 * Load Balancing"), CV = population std / mean, normalized entropy H(f)/ln E with 0 ln 0 = 0, dead experts
 * u < 0.1 (strict).
 *
 * Edge cases, chosen so a number on screen is never invented:
 * - total load 0 (the layer routed no tokens): maxVio, cv and normalizedEntropy are null, share and
 *   utilization are all 0, and no expert is "dead" (dead is relative to the mean, which is undefined);
 * - E = 1: maxVio 0, cv 0, normalizedEntropy 1 (ln 1 = 0 would give 0/0; one expert is trivially as
 *   balanced as it can be, so we report the value that means "balanced", like maxVio 0).
 */
import { InvalidInput } from "./errors";
import { requireCounts } from "./requireInteger";

/** ExpertStanding: one expert in a hottest/coldest list. */
export interface ExpertStanding {
  expert: number;
  load: number;
  utilization: number;
}

/** LayerMetrics: the imbalance metrics of one layer in one step. */
export interface LayerMetrics {
  total: number;
  mean: number;
  share: number[];
  utilization: number[];
  maxVio: number | null;
  cv: number | null;
  normalizedEntropy: number | null;
  /** Indices of experts with utilization < 0.1. */
  deadExperts: number[];
  /** Top `topk` experts by load, highest first (ties: lower index first). */
  hottest: ExpertStanding[];
  /** Bottom `topk` experts by load, lowest first (ties: lower index first). */
  coldest: ExpertStanding[];
}

/** DEAD_EXPERT_UTILIZATION: an expert below this utilization (strictly) counts as dead. */
export const DEAD_EXPERT_UTILIZATION = 0.1;

/** computeLayerMetrics computes share, utilization, MaxVio, CV, normalized entropy, dead experts and the `topk` hottest/coldest experts of a global load vector. */
export function computeLayerMetrics(load: number[], topk = 3): LayerMetrics {
  if (load.length === 0) throw new InvalidInput("load has no experts", "load");
  requireCounts(load, "load");
  if (!Number.isInteger(topk) || topk < 0) throw new InvalidInput(`topk must be an integer >= 0, got ${topk}`, "topk");
  const experts = load.length;
  const total = load.reduce((a, b) => a + b, 0);
  const mean = total / experts;

  const empty = total === 0;
  const share = load.map((l) => (empty ? 0 : l / total));
  const utilization = load.map((l) => (empty ? 0 : l / mean));

  let maxVio: number | null = null;
  let cv: number | null = null;
  let normalizedEntropy: number | null = null;
  if (!empty) {
    maxVio = Math.max(...load) / mean - 1;
    const variance = load.reduce((acc, l) => acc + (l - mean) ** 2, 0) / experts;
    cv = Math.sqrt(variance) / mean;
    const entropy = share.reduce((acc, f) => (f > 0 ? acc - f * Math.log(f) : acc), 0);
    normalizedEntropy = experts === 1 ? 1 : entropy / Math.log(experts);
  }

  const deadExperts: number[] = [];
  if (!empty) utilization.forEach((u, e) => u < DEAD_EXPERT_UTILIZATION && deadExperts.push(e));

  const standing = (e: number): ExpertStanding => ({ expert: e, load: load[e], utilization: utilization[e] });
  const indices = load.map((_, e) => e);
  const hottest = [...indices].sort((a, b) => load[b] - load[a] || a - b).slice(0, topk).map(standing);
  const coldest = [...indices].sort((a, b) => load[a] - load[b] || a - b).slice(0, topk).map(standing);

  return { total, mean, share, utilization, maxVio, cv, normalizedEntropy, deadExperts, hottest, coldest };
}
