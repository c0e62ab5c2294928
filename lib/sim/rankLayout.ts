import type { RankCoords } from "../analysis/types";

/**
 * Megatron's rank ordering, from megatron/core/parallel_state.py (initialize_model_parallel, RankGenerator,
 * generate_masked_orthogonal_rank_groups) with the default order "tp-cp-ep-dp-pp", first name fastest:
 *   - attention (decoder) mesh: RankGenerator(tp, ep=1, dp, pp, cp), so effectively "tp-cp-dp-pp":
 *       rank = tp + TP * (cp + CP * (dp + DP * pp))
 *   - expert mesh (MoE parallel folding): RankGenerator(tp=ETP, ep=EP, dp=EDP, pp, cp=1), i.e. "tp-ep-dp-pp":
 *       rank = etp + ETP * (ep + EP * (edp + EDP * pp))
 * Both meshes put pp slowest over the same world / PP ranks, so a rank's pp is the same in both.
 */

/** MeshSizes: the parallel sizes that define both meshes. */
export interface MeshSizes {
  world: number;
  tp: number;
  cp: number;
  pp: number;
  ep: number;
  etp: number;
}

/** rankCoords: the coordinates of `rank` in the attention and expert meshes (see the module comment). */
export function rankCoords(rank: number, m: MeshSizes): RankCoords {
  const dpSize = m.world / (m.tp * m.cp * m.pp);
  const edpSize = m.world / (m.etp * m.ep * m.pp);
  let r = rank;
  const tp = r % m.tp;
  r = Math.floor(r / m.tp);
  const cp = r % m.cp;
  r = Math.floor(r / m.cp);
  const dp = r % dpSize;
  const pp = Math.floor(r / dpSize);

  let x = rank;
  const etp = x % m.etp;
  x = Math.floor(x / m.etp);
  const ep = x % m.ep;
  x = Math.floor(x / m.ep);
  const edp = x % edpSize;
  return { tp, cp, dp, pp, ep, etp, edp };
}

/**
 * stageLayers: the global 1-based layer numbers held by pipeline rank `pp`, in execution order of model chunks.
 * Follows get_transformer_layer_offset (megatron/core/transformer/transformer_layer.py) for even splits:
 * without VPP, offset = pp * L/PP; with VPP size v, chunk c starts at c * (L / v) + pp * (L / PP / v).
 */
export function stageLayers(pp: number, numLayers: number, ppSize: number, vpp?: number): number[] {
  const perStage = numLayers / ppSize;
  const out: number[] = [];
  if (!vpp || vpp <= 1) {
    for (let i = 0; i < perStage; i++) out.push(pp * perStage + i + 1);
    return out;
  }
  const perChunk = perStage / vpp;
  for (let c = 0; c < vpp; c++) {
    const offset = c * (numLayers / vpp) + pp * perChunk;
    for (let i = 0; i < perChunk; i++) out.push(offset + i + 1);
  }
  return out;
}
