/**
 * A global rank's coordinates in Megatron's two meshes, as megatron/core/parallel_state.py builds them.
 *
 * `initialize_model_parallel(order="tp-cp-ep-dp-pp")` creates two `RankGenerator`s over the same
 * ranks. The attention (decoder) one has ep = 1, so its effective order is tp-cp-dp-pp; the expert one
 * (MoE parallel folding) has cp = 1 and tp = ETP, dp = EDP, so its order is tp-ep-dp-pp. In
 * `generate_masked_orthogonal_rank_groups` the first name in the order has stride 1 and each next name's
 * stride is the product of the sizes before it, so a rank decodes as a mixed-radix number:
 *   rank = tp + TP*(cp + CP*(dp + DP*pp))          (attention mesh)
 *   rank = etp + ETP*(ep + EP*(edp + EDP*pp))      (expert mesh)
 * `--use-tp-pp-dp-mapping` switches the order to "tp-cp-ep-pp-dp" (megatron/training/initialize.py);
 * pass that order to decode such runs. Megatron asserts both meshes put the same ranks in each pipeline
 * group, which holds for the default order because pp is slowest in both.
 * The virtual pipeline stage is not a rank coordinate (every rank holds all its chunks), so vpp is unset.
 */
import { InvalidInput } from "./errors";
import { requireInteger } from "./requireInteger";
import type { RankCoords } from "./types";

/** MeshSizeSet: the sizes of both meshes; tp*cp*dp*pp and etp*ep*edp*pp must both equal the world size. */
export interface MeshSizeSet {
  tp: number;
  cp: number;
  dp: number;
  pp: number;
  ep: number;
  etp: number;
  edp: number;
}

/** RankOrder: the two orders Megatron's training entry point uses (default, and --use-tp-pp-dp-mapping). */
export type RankOrder = "tp-cp-ep-dp-pp" | "tp-cp-ep-pp-dp";

/** Decodes `rank` as a mixed-radix number whose digits follow `names` (first name fastest). */
function decode(rank: number, names: string[], sizes: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  let rest = rank;
  for (const name of names) {
    out[name] = rest % sizes[name];
    rest = Math.floor(rest / sizes[name]);
  }
  return out;
}

/** rankCoordinates returns the attention-mesh (tp, cp, dp, pp) and expert-mesh (etp, ep, edp, pp) coordinates of a global rank under Megatron's RankGenerator order. */
export function rankCoordinates(rank: number, sizes: MeshSizeSet, order: RankOrder = "tp-cp-ep-dp-pp"): RankCoords {
  for (const key of ["tp", "cp", "dp", "pp", "ep", "etp", "edp"] as const) requireInteger(sizes[key], key);
  const world = sizes.tp * sizes.cp * sizes.dp * sizes.pp;
  const expertWorld = sizes.etp * sizes.ep * sizes.edp * sizes.pp;
  if (world !== expertWorld) {
    throw new InvalidInput(
      `attention mesh TP*CP*DP*PP = ${world} and expert mesh ETP*EP*EDP*PP = ${expertWorld} must cover the same world`,
      "sizes",
    );
  }
  if (!Number.isInteger(rank) || rank < 0 || rank >= world) {
    throw new InvalidInput(`rank ${rank} is outside 0..${world - 1}`, "rank");
  }
  const names = order.split("-");
  // Each mesh drops the axis its generator sets to 1 (ep for attention, cp for experts).
  const attention = decode(rank, names.filter((n) => n !== "ep"), { tp: sizes.tp, cp: sizes.cp, dp: sizes.dp, pp: sizes.pp });
  const expert = decode(rank, names.filter((n) => n !== "cp"), { tp: sizes.etp, ep: sizes.ep, dp: sizes.edp, pp: sizes.pp });
  if (attention.pp !== expert.pp) {
    // Only reachable with the pp-before-dp order and EDP != DP, which Megatron refuses to start with.
    throw new InvalidInput(
      `rank ${rank} lands on pipeline stage ${attention.pp} in the attention mesh but ${expert.pp} in the expert mesh: with order ${order} Megatron needs EDP == DP`,
      "sizes",
    );
  }
  return { tp: attention.tp, cp: attention.cp, dp: attention.dp, pp: attention.pp, ep: expert.ep, etp: expert.tp, edp: expert.dp };
}
