/**
 * Plain domain types shared by the pure analysis core, the collector, the clients and the web app.
 * No Prisma, gRPC or Next types ever appear here; adapters translate at their boundary.
 */

/** RunConfig: a run's MoE and parallel configuration under Megatron's own argument names. */
export interface RunConfig {
  num_layers: number;
  hidden_size?: number;
  seq_length?: number;
  micro_batch_size?: number;
  global_batch_size?: number;

  num_experts: number;
  moe_router_topk: number;
  /** aux_loss | seq_aux_loss | global_aux_loss | sinkhorn | none (Megatron default: aux_loss). */
  moe_router_load_balancing_type?: string;
  moe_aux_loss_coeff?: number;
  moe_z_loss_coeff?: number;
  moe_token_dispatcher_type?: string;
  moe_expert_capacity_factor?: number;
  moe_pad_expert_input_to_capacity?: boolean;
  /** probs | position (Megatron default: probs). */
  moe_token_drop_policy?: string;
  /** Integer N (one MoE layer every N) or a Python list expression such as "([0]+[1]*23)". Default 1. */
  moe_layer_freq?: string;
  moe_ffn_hidden_size?: number;
  moe_shared_expert_intermediate_size?: number;
  moe_grouped_gemm?: boolean;
  moe_router_enable_expert_bias?: boolean;
  moe_layer_recompute?: boolean;
  recompute_granularity?: string;
  recompute_modules?: string[];

  tensor_model_parallel_size: number;
  pipeline_model_parallel_size: number;
  num_layers_per_virtual_pipeline_stage?: number;
  context_parallel_size: number;
  expert_model_parallel_size: number;
  /** Unset means equal to tensor_model_parallel_size (Megatron's default). */
  expert_tensor_parallel_size?: number;
  sequence_parallel?: boolean;
  disable_bias_linear?: boolean;

  bf16?: boolean;
  fp16?: boolean;
  fp8?: string;

  /** Any other argument by Megatron name, as text: kept and shown, not interpreted. */
  extra?: Record<string, string>;
}

/** RunInfo: what a run registers besides its configuration. */
export interface RunInfo {
  runKey: string;
  name: string;
  config: RunConfig;
  worldSize: number;
  gpusPerNode: number;
  gpuMemoryBytes: number;
  framework: string;
  frameworkVersion: string;
  simulated: boolean;
  commandLine: string[];
}

/** RankCoords: a rank's coordinates in Megatron's attention mesh (tp, cp, dp, pp) and expert mesh (etp, ep, edp, pp). */
export interface RankCoords {
  tp: number;
  cp: number;
  dp: number;
  pp: number;
  vpp?: number;
  ep: number;
  etp: number;
  edp: number;
}

/** RankInfo: one training rank as it introduced itself. */
export interface RankInfo {
  rank: number;
  host: string;
  device: string;
  coords: RankCoords;
}

/** LossValues: a layer's router losses by Megatron name, as Megatron's metrics tracker logs them. */
export interface LossValues {
  load_balancing_loss?: number;
  seq_load_balancing_loss?: number;
  global_load_balancing_loss?: number;
  z_loss?: number;
}

/** LOSS_NAMES: the Megatron loss names a layer report may carry. */
export const LOSS_NAMES = [
  "load_balancing_loss",
  "seq_load_balancing_loss",
  "global_load_balancing_loss",
  "z_loss",
] as const;

/** LossName: one of LOSS_NAMES. */
export type LossName = (typeof LOSS_NAMES)[number];

/** LayerReport: one MoE layer in one step as seen by one rank; counts summed over micro-batches. */
export interface LayerReport {
  step: number;
  /** Global 1-based layer number (Megatron's layer_number). */
  layer: number;
  microBatches: number;
  /** T_local: tokens this rank routed through the layer in this step. */
  tokens: number;
  /** Tokens dispatched to each expert (after capacity dropping), length num_experts. */
  tokensPerExpert: number[];
  /** Counts before capacity dropping, when a capacity factor is set. */
  tokensPerExpertBeforeDrop?: number[];
  /** Tokens received by each expert hosted on this rank, length num_experts / EP. */
  receivedPerLocalExpert?: number[];
  dropped?: number;
  losses: LossValues;
}

/** MemorySample: the fields of torch.cuda.memory_stats() the product uses, in bytes and counts. */
export interface MemorySample {
  allocatedBytes: number;
  reservedBytes: number;
  peakAllocatedBytes: number;
  numOoms: number;
  numAllocRetries: number;
}

/** StepSample: one rank's per-step timing, loss and memory. */
export interface StepSample {
  step: number;
  iterationTimeMs?: number;
  lmLoss?: number;
  memory?: MemorySample;
  wallTimeMs?: number;
}

/** OomEvent: an out-of-memory error reported by a rank before it died. */
export interface OomEvent {
  rank: number;
  step: number;
  phase: string;
  layer?: number;
  message: string;
  memory?: MemorySample;
  wallTimeMs?: number;
  requestedBytes?: number;
}

/** ScalarPoint: one value of a named series at a step; layer 0 means run-level (not per layer). */
export interface ScalarPoint {
  step: number;
  name: string;
  layer: number;
  value: number;
}
