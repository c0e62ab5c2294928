/**
 * Tokens received per EP rank, the load that drives expert-side OOMs (DESIGN.md "EP-rank load").
 *
 * Which ranks are sources, checked against megatron/core/transformer/moe/token_dispatcher.py
 * (`MoEAlltoAllTokenDispatcher.preprocess`): each rank's local routing counts are all-gathered over
 * `tp_ep_group` (the expert-TP x EP group, here: the ranks with the same (edp, pp)), and a rank's
 * `num_tokens_per_local_expert` is the sum over all tp_size x ep_size sources of their counts for its
 * local experts; after the EP all-to-all, `dispatch_postprocess` all-gathers over the expert-TP group,
 * so every ETP rank of EP rank r processes the same tokens. Hence
 *   R[g][r] = sum over sources s in group g of sum over e hosted by r of c_s[e],
 * and every ETP rank of EP rank r should report that same total.
 *
 * Unlike the global router load, received load is never TP de-duplicated: the dispatcher gathers counts
 * over tp_ep_group and dispatches every member's tokens, so without sequence parallelism (old builds and
 * imports; megatron/core/transformer/moe/moe_layer.py refuses it for training) an EP rank receives one
 * copy of the same tokens from each attention-TP peer, and that doubled load is what its memory holds.
 *
 * Which counts (DESIGN.md "Which counts"): `tokensPerExpert` is Megatron's routing_map after capacity
 * dropping, so R[g][r] built from it is what EP rank r actually receives (`received`, what memory
 * follows). The same sum over the counts before dropping, where a rank sent them, is what the router
 * asked EP rank r to take (`demand`); without a capacity factor nothing is dropped and the two are equal.
 *
 * Received counts sent by the client are preferred over the derived value, as DESIGN says; a
 * disagreement is reported only for complete groups, because a partial group's derived value is an
 * undercount by construction.
 */
import { InvalidInput } from "./errors";
import { expertsOfEpRank } from "./expertsOfEpRank";
import { requireCounts, requireInteger } from "./requireInteger";
import type { RankCoords, RunConfig } from "./types";

/** EpGroupLoad: one ETP x EP dispatch group (one (edp, pp)) and the tokens each of its EP ranks received. */
export interface EpGroupLoad {
  edp: number;
  pp: number;
  /** Tokens received per EP rank after capacity dropping, index = EP rank: the reported value where sent, else derived. */
  received: number[];
  /** Tokens the router sent toward each EP rank before capacity dropping (equals the derived received load without drops). */
  demand: number[];
  /** max / mean of `demand`; null when the router sent the group nothing. */
  demandRatio: number | null;
  mean: number;
  max: number;
  /** max / mean; null when the group received no tokens. */
  ratio: number | null;
  ranksReported: number;
  ranksExpected: number;
}

/** EpLoad: all groups of one layer and step, the worst EP rank and any received/derived disagreements. */
export interface EpLoad {
  groups: EpGroupLoad[];
  worst: { edp: number; pp: number; epRank: number; received: number; mean: number; ratio: number } | null;
  /** Max over groups and EP ranks of R[g][r] / mean_r R[g][r], on the received (post-drop) load. */
  epImbalance: number | null;
  /** The same maximum on the demand (pre-drop) load. */
  demandImbalance: number | null;
  mismatches: Array<{ rank: number; epRank: number; derived: number; reported: number }>;
}

/** EpRankReport: one rank's counts for a layer and step, with what it received when the client measured it. */
export interface EpRankReport {
  rank: number;
  coords: RankCoords;
  /** Dispatched counts (after capacity dropping). */
  tokensPerExpert: number[];
  /** Counts before capacity dropping, when a capacity factor is set and the client sent them. */
  tokensPerExpertBeforeDrop?: number[];
  receivedPerLocalExpert?: number[];
}

/** computeEpLoad derives the tokens each EP rank receives (post-drop) and is asked to take (pre-drop) per (edp, pp) dispatch group, prefers reported received counts, and finds the worst EP rank. */
export function computeEpLoad(ranks: EpRankReport[], config: RunConfig): EpLoad {
  const experts = requireInteger(config.num_experts, "num_experts");
  const ep = requireInteger(config.expert_model_parallel_size, "expert_model_parallel_size");
  const etp = requireInteger(config.expert_tensor_parallel_size ?? config.tensor_model_parallel_size, "expert_tensor_parallel_size");
  const ranges = Array.from({ length: ep }, (_, r) => expertsOfEpRank(r, experts, ep));
  const localExperts = experts / ep;

  const groups = new Map<string, { edp: number; pp: number; members: EpRankReport[] }>();
  const seen = new Set<string>();
  ranks.forEach((r, i) => {
    const { ep: epRank, etp: etpRank, edp, pp } = r.coords;
    if (!Number.isInteger(epRank) || epRank < 0 || epRank >= ep) {
      throw new InvalidInput(`rank ${r.rank} has EP rank ${epRank}, expected 0..${ep - 1}`, `ranks[${i}].coords.ep`);
    }
    if (!Number.isInteger(etpRank) || etpRank < 0 || etpRank >= etp) {
      throw new InvalidInput(`rank ${r.rank} has ETP rank ${etpRank}, expected 0..${etp - 1}`, `ranks[${i}].coords.etp`);
    }
    requireCounts(r.tokensPerExpert, `ranks[${i}].tokensPerExpert`, experts);
    if (r.tokensPerExpertBeforeDrop?.length) requireCounts(r.tokensPerExpertBeforeDrop, `ranks[${i}].tokensPerExpertBeforeDrop`, experts);
    if (r.receivedPerLocalExpert) requireCounts(r.receivedPerLocalExpert, `ranks[${i}].receivedPerLocalExpert`, localExperts);
    const slot = `${edp}/${pp}/${epRank}/${etpRank}`;
    if (seen.has(slot)) {
      throw new InvalidInput(`two reports for edp ${edp}, pp ${pp}, EP rank ${epRank}, ETP rank ${etpRank}`, `ranks[${i}].coords`);
    }
    seen.add(slot);
    const key = `${edp}/${pp}`;
    const group = groups.get(key) ?? { edp, pp, members: [] };
    group.members.push(r);
    groups.set(key, group);
  });

  const out: EpGroupLoad[] = [];
  const mismatches: EpLoad["mismatches"] = [];
  const ranksExpected = etp * ep;
  const ordered = [...groups.values()].sort((a, b) => a.pp - b.pp || a.edp - b.edp);
  for (const { edp, pp, members } of ordered) {
    const derived = Array.from({ length: ep }, () => 0);
    const demand = Array.from({ length: ep }, () => 0);
    for (const s of members) {
      // Every member is a source, TP peers without sequence parallelism included (see above).
      const before = s.tokensPerExpertBeforeDrop?.length ? s.tokensPerExpertBeforeDrop : s.tokensPerExpert;
      ranges.forEach(([start, end], r) => {
        for (let e = start; e < end; e++) {
          derived[r] += s.tokensPerExpert[e];
          demand[r] += before[e];
        }
      });
    }
    const reported: Array<number | undefined> = Array.from({ length: ep }, () => undefined);
    const complete = members.length === ranksExpected;
    for (const s of members) {
      if (!s.receivedPerLocalExpert) continue;
      const total = s.receivedPerLocalExpert.reduce((a, b) => a + b, 0);
      const r = s.coords.ep;
      // ETP peers should agree; if they do not, the busiest one is what can OOM.
      reported[r] = Math.max(reported[r] ?? 0, total);
      if (complete && total !== derived[r]) mismatches.push({ rank: s.rank, epRank: r, derived: derived[r], reported: total });
    }
    const received = derived.map((d, r) => reported[r] ?? d);
    const sum = received.reduce((a, b) => a + b, 0);
    const mean = sum / ep;
    const max = Math.max(...received);
    const demandMean = demand.reduce((a, b) => a + b, 0) / ep;
    const demandRatio = demandMean > 0 ? Math.max(...demand) / demandMean : null;
    out.push({ edp, pp, received, demand, demandRatio, mean, max, ratio: mean > 0 ? max / mean : null, ranksReported: members.length, ranksExpected });
  }

  let worst: EpLoad["worst"] = null;
  for (const g of out) {
    if (g.ratio === null) continue;
    if (worst === null || g.ratio > worst.ratio) {
      worst = { edp: g.edp, pp: g.pp, epRank: g.received.indexOf(g.max), received: g.max, mean: g.mean, ratio: g.ratio };
    }
  }
  let demandImbalance: number | null = null;
  for (const g of out) if (g.demandRatio !== null) demandImbalance = Math.max(demandImbalance ?? 0, g.demandRatio);
  return { groups: out, worst, epImbalance: worst?.ratio ?? null, demandImbalance, mismatches };
}
