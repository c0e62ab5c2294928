/**
 * What the EP ranks would receive if the run restarted with another expert layout (EP, ETP), computed
 * from the counts the ranks routed at the observed step.
 *
 * The attention side (TP, CP, DP, PP) does not change, so every rank keeps its attention coordinates,
 * reads the same data and routes the same tokens: its per-expert counts stay as observed (the router is
 * assumed unchanged by the restart). Only the expert mesh is re-derived: each source rank's (etp, ep,
 * edp) under the new sizes comes from rankCoordinates, which regroups the sources into new ETP x EP
 * dispatch groups, and computeEpLoad's formula R[g][r] = sum over sources s in g of the counts for the
 * experts hosted by EP rank r gives the new received tokens.
 */
import { computeEpLoad, type EpLoad } from "../computeEpLoad";
import { deriveParallelSizes } from "../deriveParallelSizes";
import { rankCoordinates, type MeshSizeSet } from "../rankCoordinates";
import type { RunConfig } from "../types";
import type { AdvisorLayerObservation } from "./types";

/** EpLoadPrediction: the worst EP-rank ratio and received tokens over layers, and per layer. */
export interface EpLoadPrediction {
  /** Max over layers of the worst group's max/mean received; null when no layer received tokens. */
  worstRatio: number | null;
  /** Tokens received by the worst EP rank of the layer with the worst ratio (0 when none). */
  worstReceived: number;
  perLayer: Array<{ layer: number; worstRatio: number | null; worstReceived: number }>;
}

/** withExpertLayout returns `config` with EP and ETP replaced (ETP always explicit, since its default follows TP). */
export function withExpertLayout(config: RunConfig, ep: number, etp: number): RunConfig {
  return { ...config, expert_model_parallel_size: ep, expert_tensor_parallel_size: etp };
}

/** meshSizes returns both meshes' sizes of a run (throws InvalidInput where Megatron would not start). */
export function meshSizes(config: RunConfig, worldSize: number): MeshSizeSet {
  const s = deriveParallelSizes(config, worldSize);
  return { tp: s.tp, cp: s.cp, dp: s.dp, pp: s.pp, ep: s.ep, etp: s.etp, edp: s.edp };
}

/** epLoadUnderLayout computes computeEpLoad for every layer with each source rank's expert coordinates re-derived under `config`'s EP and ETP. */
export function epLoadUnderLayout(layers: AdvisorLayerObservation[], config: RunConfig, worldSize: number): Array<{ layer: number; load: EpLoad }> {
  const sizes = meshSizes(config, worldSize);
  return layers.map(({ layer, reports }) => ({
    layer,
    load: computeEpLoad(
      reports.map((r) => {
        const c = rankCoordinates(r.rank, sizes);
        // Attention coordinates are the reported ones: the layout change does not touch them.
        return { rank: r.rank, coords: { ...r.coords, ep: c.ep, etp: c.etp, edp: c.edp }, tokensPerExpert: r.tokensPerExpert };
      }),
      config,
    ),
  }));
}

/** summarizeEpLoads reduces per-layer EP loads to the worst ratio, its received tokens and a per-layer list. */
export function summarizeEpLoads(loads: Array<{ layer: number; load: EpLoad }>): EpLoadPrediction {
  const perLayer = loads.map(({ layer, load }) => ({ layer, worstRatio: load.worst?.ratio ?? null, worstReceived: load.worst?.received ?? 0 }));
  let worst: (typeof perLayer)[number] | null = null;
  for (const l of perLayer) {
    if (l.worstRatio !== null && (worst === null || l.worstRatio > (worst.worstRatio ?? 0))) worst = l;
  }
  return { worstRatio: worst?.worstRatio ?? null, worstReceived: worst?.worstReceived ?? 0, perLayer };
}

/** predictEpLoad predicts per layer the worst EP rank's received tokens and max/mean ratio if the run used `change.ep` and `change.etp`, from the observed per-rank counts. */
export function predictEpLoad(
  layers: AdvisorLayerObservation[],
  config: RunConfig,
  worldSize: number,
  change: { ep: number; etp: number },
): EpLoadPrediction {
  return summarizeEpLoads(epLoadUnderLayout(layers, withExpertLayout(config, change.ep, change.etp), worldSize));
}

/** WorstEpRank: where the worst EP rank over all layers sits. */
export interface WorstEpRank {
  layer: number;
  edp: number;
  pp: number;
  epRank: number;
  received: number;
  mean: number;
  ratio: number;
}

/** worstOf returns the worst EP rank (highest max/mean) over all layers, or null when no layer received tokens. */
export function worstOf(loads: Array<{ layer: number; load: EpLoad }>): WorstEpRank | null {
  let worst: WorstEpRank | null = null;
  for (const { layer, load } of loads) {
    if (load.worst !== null && (worst === null || load.worst.ratio > worst.ratio)) worst = { layer, ...load.worst };
  }
  return worst;
}

/** maxReceived returns the most tokens any EP rank receives in any layer. */
export function maxReceived(loads: Array<{ load: EpLoad }>): number {
  let max = 0;
  for (const { load } of loads) for (const g of load.groups) max = Math.max(max, g.max);
  return max;
}
