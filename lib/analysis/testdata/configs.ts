/**
 * Reference configurations shared by the analysis tests: the seed's two reference parallel mappings
 * (Mixtral 8x7B and 8x22B, MCore v0.8 table) and a helper to build variants.
 */
import type { RunConfig } from "../types";

/** mixtral8x7b: 64 GPUs, TP1 EP8 PP4 VP8, MBS1 GBS256, 32 layers (num_layers_per_virtual_pipeline_stage = 32/(4*8) = 1). */
export const mixtral8x7b: RunConfig = {
  num_layers: 32,
  hidden_size: 4096,
  seq_length: 4096,
  micro_batch_size: 1,
  global_batch_size: 256,
  num_experts: 8,
  moe_router_topk: 2,
  moe_router_load_balancing_type: "aux_loss",
  moe_aux_loss_coeff: 1e-2,
  moe_token_dispatcher_type: "alltoall",
  moe_grouped_gemm: true,
  tensor_model_parallel_size: 1,
  pipeline_model_parallel_size: 4,
  num_layers_per_virtual_pipeline_stage: 1,
  context_parallel_size: 1,
  expert_model_parallel_size: 8,
  disable_bias_linear: true,
  bf16: true,
};

/** mixtral8x22b: 128 GPUs, TP4 EP2 PP8 VP7, MBS1 GBS256, 56 layers (one layer per virtual stage), SP and no bias as TP/ETP 4 require. */
export const mixtral8x22b: RunConfig = {
  num_layers: 56,
  hidden_size: 6144,
  seq_length: 4096,
  micro_batch_size: 1,
  global_batch_size: 256,
  num_experts: 8,
  moe_router_topk: 2,
  moe_router_load_balancing_type: "aux_loss",
  moe_aux_loss_coeff: 1e-2,
  moe_token_dispatcher_type: "alltoall",
  moe_grouped_gemm: true,
  tensor_model_parallel_size: 4,
  pipeline_model_parallel_size: 8,
  num_layers_per_virtual_pipeline_stage: 1,
  context_parallel_size: 1,
  expert_model_parallel_size: 2,
  sequence_parallel: true,
  disable_bias_linear: true,
  bf16: true,
};

/** small: a minimal valid MoE config (8 layers, 8 experts, no parallelism) for variants. */
export const small: RunConfig = {
  num_layers: 8,
  num_experts: 8,
  moe_router_topk: 2,
  tensor_model_parallel_size: 1,
  pipeline_model_parallel_size: 1,
  context_parallel_size: 1,
  expert_model_parallel_size: 1,
};

/** withConfig returns a copy of `base` with `patch` applied. */
export function withConfig(base: RunConfig, patch: Partial<RunConfig>): RunConfig {
  return { ...base, ...patch };
}
