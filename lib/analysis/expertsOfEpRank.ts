/**
 * Megatron's expert placement: EP rank r hosts the contiguous block of E/EP experts starting at
 * r*E/EP (megatron/core/transformer/moe/moe_layer.py: `local_expert_indices_offset =
 * ep_rank * num_local_experts`).
 */
import { InvalidInput } from "./errors";
import { requireInteger } from "./requireInteger";

/** expertsOfEpRank returns the half-open range [start, end) of global expert indices hosted by EP rank `epRank`. */
export function expertsOfEpRank(epRank: number, numExperts: number, ep: number): [number, number] {
  requireInteger(numExperts, "num_experts");
  requireInteger(ep, "expert_model_parallel_size");
  if (numExperts % ep !== 0) {
    throw new InvalidInput(`num_experts ${numExperts} is not divisible by expert_model_parallel_size ${ep}`, "expert_model_parallel_size");
  }
  if (!Number.isInteger(epRank) || epRank < 0 || epRank >= ep) {
    throw new InvalidInput(`EP rank ${epRank} is outside 0..${ep - 1}`, "ep");
  }
  const local = numExperts / ep;
  return [epRank * local, (epRank + 1) * local];
}
