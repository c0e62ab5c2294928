/**
 * What a batch from one rank is validated against (validateBatch's BatchContext), from the stored run: the
 * collector's handlers and the direct import sink build it the same way.
 */
import { stageOfLayer } from "../analysis/stageOfLayer";
import type { BatchContext } from "../wire/validateBatch";
import type { RunRecord } from "./runsRepo";

/** stageLayersOf: the MoE layers held by pipeline stage `pp` of a run. */
export function stageLayersOf(run: RunRecord, pp: number): Set<number> {
  return new Set(run.moeLayers.filter((l) => stageOfLayer(run.config, l).pp === pp));
}

/** batchContextOf: the context a batch of a rank of stage `pp` is validated in; `stageLayers` may come from a cache. */
export function batchContextOf(run: RunRecord, pp: number, stageLayers: ReadonlySet<number> = stageLayersOf(run, pp)): BatchContext {
  return {
    numExperts: run.numExperts,
    numLayers: run.numLayers,
    topk: run.topk,
    expertModelParallelSize: run.config.expert_model_parallel_size,
    moeLayers: new Set(run.moeLayers),
    stageLayers,
    stage: pp,
  };
}
