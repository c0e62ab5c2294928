/**
 * The full parallel mesh of a run from its Megatron arguments and world size: the attention mesh
 * TP x CP x DP x PP and, with MoE parallel folding, the expert mesh ETP x EP x EDP x PP
 * (megatron/core/parallel_state.py `initialize_model_parallel`; ETP defaulting to TP is in
 * megatron/training/arguments.py `validate_args`).
 */
import { InvalidInput } from "./errors";
import { moeLayoutUnknown } from "./moeLayoutUnknown";
import { pipelineLayout } from "./pipelineLayout";
import { requireInteger } from "./requireInteger";
import type { RunConfig } from "./types";

/** ParallelSizes: every parallel degree of a run plus its pipeline split. */
export interface ParallelSizes {
  tp: number;
  pp: number;
  cp: number;
  dp: number;
  ep: number;
  etp: number;
  edp: number;
  /** Virtual pipeline stages per pipeline rank; 1 without interleaving. */
  vpp: number;
  /** Transformer layers per pipeline rank; with an uneven split or embedding/loss in the split, the largest stage. */
  layersPerStage: number;
  /** Layers per model chunk when vpp > 1 (the largest chunk if chunks differ). */
  layersPerVirtualChunk?: number;
  /** Transformer layers held by each pipeline rank, index = pp rank. */
  stageLayerCounts: number[];
}

/** deriveParallelSizes computes DP, EDP, ETP and the pipeline split from a config and world size, throwing InvalidInput where Megatron would refuse to start (DESIGN rules 1-2). */
export function deriveParallelSizes(config: RunConfig, worldSize: number): ParallelSizes {
  requireInteger(worldSize, "world_size");
  const tp = requireInteger(config.tensor_model_parallel_size, "tensor_model_parallel_size");
  const pp = requireInteger(config.pipeline_model_parallel_size, "pipeline_model_parallel_size");
  const cp = requireInteger(config.context_parallel_size, "context_parallel_size");
  const ep = requireInteger(config.expert_model_parallel_size, "expert_model_parallel_size");
  // Megatron: "if args.expert_tensor_parallel_size is None: = tensor_model_parallel_size".
  const etp = requireInteger(config.expert_tensor_parallel_size ?? tp, "expert_tensor_parallel_size");

  const attention = tp * pp * cp;
  if (worldSize % attention !== 0) {
    throw new InvalidInput(
      `world size ${worldSize} is not divisible by TP*PP*CP = ${attention} (tensor_model_parallel_size ${tp} x pipeline_model_parallel_size ${pp} x context_parallel_size ${cp})`,
      "world_size",
    );
  }
  const expert = etp * ep * pp;
  if (worldSize % expert !== 0) {
    throw new InvalidInput(
      `world size ${worldSize} is not divisible by ETP*EP*PP = ${expert} (expert_tensor_parallel_size ${etp} x expert_model_parallel_size ${ep} x pipeline_model_parallel_size ${pp})`,
      "world_size",
    );
  }

  // No layers known (an import without arguments): the meshes are known, the stages hold no known layer.
  const layout = moeLayoutUnknown(config)
    ? { chunks: [] as Array<{ numLayers: number }>, vpp: 1, stageLayerCounts: Array.from({ length: pp }, () => 0) }
    : pipelineLayout(config);
  const chunkSizes = layout.chunks.map((c) => c.numLayers);
  const sizes: ParallelSizes = {
    tp,
    pp,
    cp,
    dp: worldSize / attention,
    ep,
    etp,
    edp: worldSize / expert,
    vpp: layout.vpp,
    layersPerStage: Math.max(...layout.stageLayerCounts),
    stageLayerCounts: layout.stageLayerCounts,
  };
  if (layout.vpp > 1) sizes.layersPerVirtualChunk = Math.max(...chunkSizes);
  return sizes;
}
