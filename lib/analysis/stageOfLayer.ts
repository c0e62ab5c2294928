/**
 * Which pipeline stage (and virtual stage) holds a global layer: the ranks that route a layer's
 * tokens are the ranks of that stage, so per-layer aggregation and EP groups depend on it.
 */
import { InvalidInput } from "./errors";
import { pipelineLayout } from "./pipelineLayout";
import type { RunConfig } from "./types";

/** stageOfLayer returns the pipeline rank and virtual stage (model chunk, 0 without VPP) holding 1-based global layer `layer`, as Megatron assigns it. */
export function stageOfLayer(config: RunConfig, layer: number): { pp: number; vpp: number } {
  if (!Number.isInteger(layer) || layer < 1 || layer > config.num_layers) {
    throw new InvalidInput(`layer ${layer} is outside 1..${config.num_layers} (layer numbers are 1-based)`, "layer");
  }
  const chunk = pipelineLayout(config).chunks.find((c) => layer >= c.firstLayer && layer < c.firstLayer + c.numLayers);
  // pipelineLayout guarantees the chunks tile 1..num_layers, so a miss is impossible for a valid layer.
  if (!chunk) throw new InvalidInput(`layer ${layer} is not assigned to any pipeline stage`, "layer");
  return { pp: chunk.pp, vpp: chunk.vpp };
}
