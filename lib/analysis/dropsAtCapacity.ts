/**
 * What a capacity factor would drop, from the counts a rank routed before dropping (DESIGN.md
 * "Capacity"): per source rank and micro-batch each expert keeps at most C assignments and the
 * excess max(0, c[e] - C) is dropped.
 *
 * Drop policy: `--moe-token-drop-policy probs` keeps the C assignments with the highest routing
 * probability, `position` keeps the first C in sequence order (megatron/core/transformer/moe/moe_utils.py
 * `apply_router_token_dropping`: `torch.topk` over the probabilities or over the routing map). Both
 * keep exactly min(c[e], C) per expert, so they decide WHICH tokens drop, not HOW MANY: the counts
 * here are the same under either policy. (Megatron skips dropping when C exceeds the token count, which
 * changes nothing either, since then c[e] <= T < C.)
 *
 * Counts arrive summed over the step's m micro-batches, but Megatron applies C per micro-batch. With
 * m > 1 we compare the step's sum against m*C (C computed from T/m tokens per micro-batch); drops
 * concentrated in one micro-batch are missed, so the result is flagged as an estimate.
 */
import { InvalidInput } from "./errors";
import { megatronCapacity } from "./megatronCapacity";
import { requireCounts, requireInteger } from "./requireInteger";

/** CapacityDrops: the drops a capacity factor implies for one rank, layer and step. */
export interface CapacityDrops {
  /** C for one micro-batch of T/m tokens. */
  capacityPerMicroBatch: number;
  /** m*C: the step-level limit the summed counts are compared with. */
  capacityPerExpert: number;
  dropped: number;
  /** dropped / (T * k). */
  dropFraction: number;
  /** True when microBatches > 1: per-step sums can hide drops inside one micro-batch. */
  estimate: boolean;
  perExpertDropped: number[];
}

/** dropsAtCapacity computes Megatron's capacity for the rank's micro-batches and the assignments it would drop from the counts before dropping. */
export function dropsAtCapacity(
  countsBeforeDrop: number[],
  tokensLocal: number,
  topk: number,
  capacityFactor: number,
  microBatches: number,
): CapacityDrops {
  if (countsBeforeDrop.length === 0) throw new InvalidInput("countsBeforeDrop has no experts", "countsBeforeDrop");
  requireCounts(countsBeforeDrop, "countsBeforeDrop");
  requireInteger(microBatches, "microBatches");
  const capacityPerMicroBatch = megatronCapacity(tokensLocal / microBatches, topk, countsBeforeDrop.length, capacityFactor);
  const capacityPerExpert = microBatches * capacityPerMicroBatch;
  const perExpertDropped = countsBeforeDrop.map((c) => Math.max(0, c - capacityPerExpert));
  const dropped = perExpertDropped.reduce((a, b) => a + b, 0);
  const assignments = tokensLocal * topk;
  return {
    capacityPerMicroBatch,
    capacityPerExpert,
    dropped,
    dropFraction: assignments > 0 ? dropped / assignments : 0,
    estimate: microBatches > 1,
    perExpertDropped,
  };
}
