/**
 * Megatron's expert capacity, bit for bit. megatron/core/transformer/moe/moe_utils.py
 * `apply_router_token_dropping` calls `get_capacity(num_tokens=num_tokens * topk, num_experts,
 * capacity_factor)`, which is `math.ceil((num_tokens / num_experts) * capacity_factor)`. The operation
 * order matters in IEEE doubles: T*k/E = 50 with cf 1.1 is 50 * 1.1 = 55.000000000000007, so C = 56.
 */
import { InvalidInput } from "./errors";
import { requireInteger } from "./requireInteger";

/** megatronCapacity returns C = ceil(((tokensLocal * topk) / numExperts) * capacityFactor) for one source rank and micro-batch, evaluated in Megatron's order. */
export function megatronCapacity(tokensLocal: number, topk: number, numExperts: number, capacityFactor: number): number {
  if (!Number.isFinite(tokensLocal) || tokensLocal < 0) {
    throw new InvalidInput(`tokensLocal must be a finite number >= 0, got ${tokensLocal}`, "tokensLocal");
  }
  requireInteger(topk, "moe_router_topk");
  requireInteger(numExperts, "num_experts");
  if (!Number.isFinite(capacityFactor) || capacityFactor < 0) {
    throw new InvalidInput(`moe_expert_capacity_factor must be a finite number >= 0, got ${capacityFactor}`, "moe_expert_capacity_factor");
  }
  return Math.ceil(((tokensLocal * topk) / numExperts) * capacityFactor);
}
