/**
 * Megatron's assignment of transformer layers to pipeline stages and virtual-pipeline model chunks.
 * Telemetry arrives per global layer number; grouping by pipeline stage (who routes a layer's tokens,
 * which EP groups see it) needs the same assignment Megatron uses.
 *
 * Follows megatron/core/transformer/transformer_layer.py `get_transformer_layer_offset` (first layer
 * of a chunk) and megatron/core/transformer/transformer_block.py `get_num_layers_to_build` (layers in a
 * chunk), with the argument checks of megatron/training/arguments.py (`validate_args`):
 * - even split: L % PP == 0; with `--num-layers-per-virtual-pipeline-stage n`,
 *   (L/PP) % n == 0 and VPP = (L/PP)/n; chunk c of stage p starts at c*(L/VPP) + p*(L/(PP*VPP)),
 *   i.e. (c*PP + p) * layersPerChunk;
 * - `--account-for-embedding-in-pipeline-split` / `--account-for-loss-in-pipeline-split` count the
 *   embedding / loss as one extra layer of the first / last chunk;
 * - uneven split (`--decoder-first-pipeline-num-layers`, `--decoder-last-pipeline-num-layers`), where
 *   Megatron requires `--num-virtual-stages-per-pipeline-rank` instead of layers-per-virtual-stage.
 * `--pipeline-model-parallel-layout` (an explicit layout string) is not supported here.
 */
import { configExtra, configExtraFlag } from "./configExtra";
import { InvalidInput } from "./errors";
import { requireInteger } from "./requireInteger";
import type { RunConfig } from "./types";

/** PipelineChunk: one model chunk, i.e. the layers one pipeline stage holds for one virtual stage. */
export interface PipelineChunk {
  /** Pipeline-parallel rank (0-based). */
  pp: number;
  /** Virtual pipeline stage, i.e. model chunk index on that rank (0-based; 0 without VPP). */
  vpp: number;
  /** First global layer number of the chunk (1-based, Megatron's layer_number). */
  firstLayer: number;
  numLayers: number;
}

/** PipelineLayout: how a run's layers are spread over pipeline stages and virtual stages. */
export interface PipelineLayout {
  pp: number;
  /** Virtual stages per pipeline rank; 1 without interleaving. */
  vpp: number;
  /** Chunks in layer order. */
  chunks: PipelineChunk[];
  /** Transformer layers held by each pipeline rank (all its chunks). */
  stageLayerCounts: number[];
  /** True when decoder_first/last_pipeline_num_layers make the split uneven. */
  uneven: boolean;
}

function bad(message: string, field: string): never {
  throw new InvalidInput(message, field);
}

/** pipelineLayout computes Megatron's layer-to-(pipeline stage, virtual stage) assignment for a run, or throws InvalidInput where Megatron would refuse the configuration. */
export function pipelineLayout(config: RunConfig): PipelineLayout {
  const numLayers = requireInteger(config.num_layers, "num_layers");
  const pp = requireInteger(config.pipeline_model_parallel_size, "pipeline_model_parallel_size");
  if (config.extra?.pipeline_model_parallel_layout !== undefined) {
    bad(
      "pipeline_model_parallel_layout is not supported: layer-to-stage assignment needs the even or decoder_first/last split",
      "pipeline_model_parallel_layout",
    );
  }
  const layersPerVirtual = config.num_layers_per_virtual_pipeline_stage;
  if (layersPerVirtual !== undefined) requireInteger(layersPerVirtual, "num_layers_per_virtual_pipeline_stage");
  const virtualStages = configExtra(config, "num_virtual_stages_per_pipeline_rank");
  if (virtualStages !== undefined) requireInteger(virtualStages, "num_virtual_stages_per_pipeline_rank");
  if (layersPerVirtual !== undefined && virtualStages !== undefined) {
    bad(
      "set only one of num_layers_per_virtual_pipeline_stage and num_virtual_stages_per_pipeline_rank (Megatron refuses both)",
      "num_layers_per_virtual_pipeline_stage",
    );
  }

  // Without pipeline parallelism Megatron builds every layer in one chunk and ignores the split options.
  if (pp === 1) {
    const vpp = layersPerVirtual !== undefined ? numLayers / layersPerVirtual : (virtualStages ?? 1);
    if (vpp > 1) {
      bad(
        `virtual pipeline (${vpp} virtual stages) needs pipeline_model_parallel_size > 1, got 1`,
        "pipeline_model_parallel_size",
      );
    }
    return { pp, vpp: 1, chunks: [{ pp: 0, vpp: 0, firstLayer: 1, numLayers }], stageLayerCounts: [numLayers], uneven: false };
  }

  const first = configExtra(config, "decoder_first_pipeline_num_layers") ?? configExtra(config, "num_layers_in_first_pipeline_stage");
  const last = configExtra(config, "decoder_last_pipeline_num_layers") ?? configExtra(config, "num_layers_in_last_pipeline_stage");
  const embedding = configExtraFlag(config, "account_for_embedding_in_pipeline_split");
  const loss = configExtraFlag(config, "account_for_loss_in_pipeline_split");
  const uneven = first !== undefined || last !== undefined;

  let vpp: number;
  let stageCount: (p: number) => number;
  let offsetOf: (p: number, c: number) => number;
  let countOf: (p: number, c: number) => number;

  if (uneven) {
    if (embedding || loss) {
      bad("account_for_embedding/loss_in_pipeline_split cannot be combined with an uneven pipeline split", "decoder_first_pipeline_num_layers");
    }
    if (layersPerVirtual !== undefined) {
      bad(
        "with decoder_first/last_pipeline_num_layers Megatron needs num_virtual_stages_per_pipeline_rank, not num_layers_per_virtual_pipeline_stage",
        "num_layers_per_virtual_pipeline_stage",
      );
    }
    const firstN = first ?? 0;
    const lastN = last ?? 0;
    if (firstN < 0 || lastN < 0) bad("decoder_first/last_pipeline_num_layers must be >= 0", "decoder_first_pipeline_num_layers");
    const middleStages = pp - (first !== undefined ? 1 : 0) - (last !== undefined ? 1 : 0);
    const middleLayers = numLayers - firstN - lastN;
    if (middleLayers < 0 || (middleStages === 0 && middleLayers !== 0)) {
      bad(
        `decoder_first/last_pipeline_num_layers (${firstN} + ${lastN}) do not fit num_layers ${numLayers} over ${pp} stages`,
        "decoder_first_pipeline_num_layers",
      );
    }
    if (middleStages > 0 && middleLayers % middleStages !== 0) {
      bad(
        `with an uneven pipeline the ${middleLayers} remaining layers must divide over the ${middleStages} middle stages`,
        "num_layers",
      );
    }
    const perMiddle = middleStages > 0 ? middleLayers / middleStages : 0;
    vpp = virtualStages ?? 1;
    stageCount = (p) => (p === 0 && first !== undefined ? firstN : p === pp - 1 && last !== undefined ? lastN : perMiddle);
    // Same integer divisions as get_transformer_layer_offset's uneven branch.
    const firstChunk = Math.floor(firstN / vpp);
    const middleChunk = Math.floor(middleLayers / vpp);
    const lastChunk = Math.floor(lastN / vpp);
    const total = firstChunk + middleChunk + lastChunk;
    offsetOf = (p, c) => {
      const middleRank = first === undefined ? p : p - 1;
      if (vpp > 1) {
        if (p === 0) return c * total;
        return c * total + firstChunk + middleRank * (middleStages > 0 ? Math.floor(middleChunk / middleStages) : 0);
      }
      return p === 0 ? 0 : middleRank * perMiddle + firstN;
    };
    countOf = (p) => stageCount(p) / vpp;
  } else {
    // The embedding / loss layer counts as one layer of the pipeline split but is not a transformer layer.
    const splitLayers = numLayers + (embedding ? 1 : 0) + (loss ? 1 : 0);
    if (splitLayers % pp !== 0) {
      const what = splitLayers === numLayers ? `num_layers ${numLayers}` : `num_layers ${numLayers} + ${splitLayers - numLayers} (embedding/loss in the split)`;
      bad(`${what} is not divisible by pipeline_model_parallel_size ${pp}`, "num_layers");
    }
    const perStage = splitLayers / pp;
    if (layersPerVirtual !== undefined) {
      if (perStage % layersPerVirtual !== 0) {
        bad(
          `layers per pipeline stage ${perStage} (num_layers ${numLayers} / pipeline_model_parallel_size ${pp}) is not divisible by num_layers_per_virtual_pipeline_stage ${layersPerVirtual}`,
          "num_layers_per_virtual_pipeline_stage",
        );
      }
      vpp = perStage / layersPerVirtual;
    } else {
      vpp = virtualStages ?? 1;
    }
    if (perStage % vpp !== 0) {
      bad(`layers per pipeline stage ${perStage} is not divisible by ${vpp} virtual stages`, "num_virtual_stages_per_pipeline_rank");
    }
    const perChunk = perStage / vpp;
    const chunkStride = splitLayers / vpp;
    stageCount = () => perStage;
    offsetOf = (p, c) => c * chunkStride + p * perChunk - (embedding && !(p === 0 && c === 0) ? 1 : 0);
    countOf = (p, c) =>
      perChunk - (embedding && p === 0 && c === 0 ? 1 : 0) - (loss && p === pp - 1 && c === vpp - 1 ? 1 : 0);
  }

  if (vpp > 1) {
    // arguments.py: the interleaved schedule needs PP > 1, or PP > 2 without p2p overlap.
    const noOverlap = configExtraFlag(config, "no_overlap_p2p_communication");
    if (noOverlap && pp <= 2) {
      bad(
        `interleaved pipeline without p2p overlap needs pipeline_model_parallel_size > 2, got ${pp}`,
        "pipeline_model_parallel_size",
      );
    }
  }
  for (let p = 0; p < pp; p++) {
    if (stageCount(p) % vpp !== 0) {
      bad(`pipeline stage ${p} holds ${stageCount(p)} layers, not divisible by ${vpp} virtual stages`, "num_virtual_stages_per_pipeline_rank");
    }
  }

  const chunks: PipelineChunk[] = [];
  for (let c = 0; c < vpp; c++) {
    for (let p = 0; p < pp; p++) {
      chunks.push({ pp: p, vpp: c, firstLayer: offsetOf(p, c) + 1, numLayers: countOf(p, c) });
    }
  }
  chunks.sort((a, b) => a.firstLayer - b.firstLayer || a.numLayers - b.numLayers);
  // The chunks must tile layers 1..L exactly; anything else means the options contradict each other.
  let next = 1;
  for (const chunk of chunks) {
    if (chunk.numLayers < 0 || (chunk.numLayers > 0 && chunk.firstLayer !== next)) {
      bad(`pipeline split leaves a gap or overlap at layer ${next} of ${numLayers}`, "num_layers");
    }
    next += chunk.numLayers;
  }
  if (next !== numLayers + 1) bad(`pipeline split covers ${next - 1} layers, num_layers is ${numLayers}`, "num_layers");

  const stageLayerCounts = Array.from({ length: pp }, () => 0);
  for (const chunk of chunks) stageLayerCounts[chunk.pp] += chunk.numLayers;
  return { pp, vpp, chunks, stageLayerCounts, uneven };
}
