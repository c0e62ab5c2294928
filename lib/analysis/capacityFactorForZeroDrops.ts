/**
 * The smallest capacity factor at which a rank would have dropped nothing: max(c) / (T*k/E)
 * (DESIGN.md "Capacity"). Then ((T*k)/E) * cf is max(c) up to rounding and Megatron's ceil keeps
 * every assignment. With counts summed over m micro-batches the busiest micro-batch may need more,
 * so the value is an estimate (a lower bound).
 */
import { InvalidInput } from "./errors";
import { requireCounts, requireInteger } from "./requireInteger";

/** capacityFactorForZeroDrops returns max(c) / (T*k/E) for one rank's counts, flagged as an estimate when they sum several micro-batches. */
export function capacityFactorForZeroDrops(
  counts: number[],
  tokensLocal: number,
  topk: number,
  microBatches = 1,
): { capacityFactor: number; estimate: boolean } {
  if (counts.length === 0) throw new InvalidInput("counts has no experts", "counts");
  requireCounts(counts, "counts");
  requireInteger(topk, "moe_router_topk");
  requireInteger(microBatches, "microBatches");
  if (!Number.isFinite(tokensLocal) || tokensLocal <= 0) {
    throw new InvalidInput(`tokensLocal must be > 0 to define a capacity factor, got ${tokensLocal}`, "tokensLocal");
  }
  const fairShare = (tokensLocal * topk) / counts.length;
  return { capacityFactor: Math.max(...counts) / fairShare, estimate: microBatches > 1 };
}
