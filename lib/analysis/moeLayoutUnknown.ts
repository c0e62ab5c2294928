import type { RunConfig } from "./types";

/**
 * moeLayoutUnknown: the run's MoE layout (layers, experts, top-k) is not known: all three are 0. Only an
 * import of a log excerpt without Megatron's printed arguments block registers such a run; its run-level
 * series are stored, and every per-layer or per-expert view is empty for that reason.
 */
export function moeLayoutUnknown(config: Pick<RunConfig, "num_layers" | "num_experts" | "moe_router_topk">): boolean {
  return config.num_layers === 0 && config.num_experts === 0 && config.moe_router_topk === 0;
}
