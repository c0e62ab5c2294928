/**
 * The checks a suggested configuration must pass: every rule of validateRunConfig (DESIGN.md 1-8) plus
 * the Megatron start-up rules that only the advisor's own changes can break:
 * - the expert MLP's hidden size must split evenly over ETP (megatron/core/tensor_parallel/layers.py
 *   and megatron/core/extensions/transformer_engine.py: `divide(output_size, world_size)` asserts);
 * - `--moe-router-enable-expert-bias` needs `--moe-router-score-function` sigmoid or sqrtsoftplus
 *   (megatron/core/transformer/transformer_config.py);
 * - `--overlap-moe-expert-parallel-comm` needs EP > 1 and forbids "moe" in --recompute-modules
 *   (same file).
 */
import { configExtraFlag } from "../configExtra";
import type { RunConfig } from "../types";
import { expertFfnSize } from "./expertFfnSize";
import { validateRunConfig, type ConfigViolation } from "../validateRunConfig";

/** EXPERT_BIAS_SCORE_FUNCTIONS: the router score functions Megatron allows with expert bias. */
export const EXPERT_BIAS_SCORE_FUNCTIONS = ["sigmoid", "sqrtsoftplus"] as const;

/** recomputesMoe tells whether a configuration recomputes the MoE layer (new or deprecated spelling). */
export function recomputesMoe(config: RunConfig): boolean {
  if (config.moe_layer_recompute) return true;
  return config.recompute_granularity === "selective" && (config.recompute_modules ?? []).includes("moe");
}

/** validateSuggestion lists every rule a suggested configuration breaks on the cluster: validateRunConfig's plus the advisor's own (ETP split of the expert MLP, expert bias score function, EP overlap). */
export function validateSuggestion(config: RunConfig, cluster: { worldSize: number; gpusPerNode?: number }): ConfigViolation[] {
  const out = validateRunConfig(config, cluster);
  const etp = config.expert_tensor_parallel_size ?? config.tensor_model_parallel_size;
  const ffn = expertFfnSize(config);
  if (ffn !== undefined && Number.isInteger(etp) && etp > 0 && ffn % etp !== 0) {
    out.push({
      rule: "ffn-divisible-by-etp",
      severity: "error",
      message: `the expert MLP hidden size ${ffn} is not divisible by expert_tensor_parallel_size ${etp}: Megatron splits it evenly over the ETP ranks`,
    });
  }
  if (config.moe_router_enable_expert_bias) {
    const score = config.extra?.moe_router_score_function ?? "softmax";
    if (!(EXPERT_BIAS_SCORE_FUNCTIONS as readonly string[]).includes(score)) {
      out.push({
        rule: "expert-bias-requires-sigmoid",
        severity: "error",
        message: `--moe-router-enable-expert-bias needs --moe-router-score-function sigmoid or sqrtsoftplus, got ${score}`,
      });
    }
  }
  if (configExtraFlag(config, "overlap_moe_expert_parallel_comm")) {
    if (config.expert_model_parallel_size <= 1) {
      out.push({
        rule: "ep-overlap-requires-ep",
        severity: "error",
        message: "--overlap-moe-expert-parallel-comm needs expert_model_parallel_size > 1",
      });
    }
    if (recomputesMoe(config)) {
      out.push({
        rule: "ep-overlap-forbids-moe-recompute",
        severity: "error",
        message: "--overlap-moe-expert-parallel-comm cannot be combined with recomputing the MoE layer",
      });
    }
  }
  return out;
}
