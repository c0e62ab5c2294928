/**
 * Capacity what-if for one MoE layer at one step, across every rank that routed tokens for it:
 * how many assignments a capacity factor would drop (Megatron's per-source-rank capacity), and the
 * smallest factor that drops nothing.
 */
import { capacityFactorForZeroDrops } from "./capacityFactorForZeroDrops";
import { dropsAtCapacity } from "./dropsAtCapacity";

/** WhatIfReport: one rank's counts for the layer. */
export interface WhatIfReport {
  tokens: number;
  microBatches: number;
  tokensPerExpert: number[];
  tokensPerExpertBeforeDrop?: number[];
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
}

/** capacityWhatIf predicts the layer's drops at `capacityFactor` from every rank's counts. */
export function capacityWhatIf(reports: WhatIfReport[], topk: number, capacityFactor: number): CapacityWhatIf {
  let dropped = 0;
  let assignments = 0;
  let needed = 0;
  let estimate = false;
  let allBeforeDrop = reports.length > 0;
  for (const r of reports) {
    const counts = r.tokensPerExpertBeforeDrop?.length ? r.tokensPerExpertBeforeDrop : r.tokensPerExpert;
    if (!r.tokensPerExpertBeforeDrop?.length) allBeforeDrop = false;
    if (r.tokens === 0) continue;
    const d = dropsAtCapacity(counts, r.tokens, topk, capacityFactor, r.microBatches);
    dropped += d.dropped;
    assignments += r.tokens * topk;
    estimate ||= d.estimate;
    needed = Math.max(needed, capacityFactorForZeroDrops(counts, r.tokens, topk, r.microBatches).capacityFactor);
  }
  return {
    capacityFactor,
    dropped,
    assignments,
    dropFraction: assignments === 0 ? 0 : dropped / assignments,
    capacityFactorForZeroDrops: needed,
    estimate,
    basis: allBeforeDrop ? "before-drop" : "dispatched",
  };
}
