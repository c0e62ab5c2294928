/**
 * Capacity what-if for one MoE layer at one step, across every rank that routed tokens for it:
 * how many assignments a capacity factor would drop (Megatron's per-source-rank capacity), and the
 * smallest factor that drops nothing; per source rank too, since Megatron's capacity C depends on each
 * rank's own T_local and one rank can drop far more than the rest.
 */
import { capacityFactorForZeroDrops } from "./capacityFactorForZeroDrops";
import { dropsAtCapacity } from "./dropsAtCapacity";

/** WhatIfReport: one rank's counts for the layer. */
export interface WhatIfReport {
  /** Global rank of the source, echoed in `perRank` (its index in the list when absent). */
  rank?: number;
  tokens: number;
  microBatches: number;
  tokensPerExpert: number[];
  tokensPerExpertBeforeDrop?: number[];
}

/** RankCapacity: one source rank's capacity and predicted drops for the layer (capacity applies per source rank). */
export interface RankCapacity {
  rank: number;
  tokens: number;
  microBatches: number;
  /** Megatron's C for one micro-batch of T_local / m tokens. */
  capacityPerMicroBatch: number;
  /** m x C: the step-level cap per expert the summed counts are compared with. */
  capacityPerExpert: number;
  dropped: number;
  /** T_local x k. */
  assignments: number;
  dropFraction: number;
  /** Smallest factor with no drop on this rank. */
  capacityFactorForZeroDrops: number;
}

/** CapacityWhatIf: the layer's predicted drops at one capacity factor. */
export interface CapacityWhatIf {
  capacityFactor: number;
  dropped: number;
  /** Assignments routed: sum over ranks of T_local x k. */
  assignments: number;
  dropFraction: number;
  /** Smallest factor with no drop on any rank (max over ranks). */
  capacityFactorForZeroDrops: number;
  /** True when counts are per-step sums over several micro-batches (capacity applies per micro-batch). */
  estimate: boolean;
  /**
   * "before-drop": computed on the counts before Megatron dropped anything (exact basis);
   * "dispatched": only dispatched counts were sent, which a capacity factor in force already clipped,
   * so drops at a smaller factor are underestimated.
   */
  basis: "before-drop" | "dispatched";
  /** Per source rank, in input order (ranks that routed no tokens are left out). */
  perRank: RankCapacity[];
}

/** capacityWhatIf predicts the layer's drops at `capacityFactor` from every rank's counts. */
export function capacityWhatIf(reports: WhatIfReport[], topk: number, capacityFactor: number): CapacityWhatIf {
  let dropped = 0;
  let assignments = 0;
  let needed = 0;
  let estimate = false;
  let allBeforeDrop = reports.length > 0;
  const perRank: RankCapacity[] = [];
  reports.forEach((r, i) => {
    const counts = r.tokensPerExpertBeforeDrop?.length ? r.tokensPerExpertBeforeDrop : r.tokensPerExpert;
    if (!r.tokensPerExpertBeforeDrop?.length) allBeforeDrop = false;
    if (r.tokens === 0) return;
    const d = dropsAtCapacity(counts, r.tokens, topk, capacityFactor, r.microBatches);
    const zero = capacityFactorForZeroDrops(counts, r.tokens, topk, r.microBatches).capacityFactor;
    dropped += d.dropped;
    assignments += r.tokens * topk;
    estimate ||= d.estimate;
    needed = Math.max(needed, zero);
    perRank.push({
      rank: r.rank ?? i,
      tokens: r.tokens,
      microBatches: r.microBatches,
      capacityPerMicroBatch: d.capacityPerMicroBatch,
      capacityPerExpert: d.capacityPerExpert,
      dropped: d.dropped,
      assignments: r.tokens * topk,
      dropFraction: d.dropFraction,
      capacityFactorForZeroDrops: zero,
    });
  });
  return {
    capacityFactor,
    dropped,
    assignments,
    dropFraction: assignments === 0 ? 0 : dropped / assignments,
    capacityFactorForZeroDrops: needed,
    estimate,
    basis: allBeforeDrop ? "before-drop" : "dispatched",
    perRank,
  };
}
