import { describe, expect, it } from "vitest";
import { computeEpLoad, type EpRankReport } from "./computeEpLoad";
import { small, withConfig } from "./testdata/configs";
import type { RankCoords } from "./types";

const coords = (c: Partial<RankCoords>): RankCoords => ({ tp: 0, cp: 0, dp: 0, pp: 0, ep: 0, etp: 0, edp: 0, ...c });

// E=8, EP=4, ETP=TP=1, world 8 -> EDP 2; EP rank r hosts experts [2r, 2r+2)
const ep4 = withConfig(small, { expert_model_parallel_size: 4 });
const skewed = [10, 10, 5, 5, 5, 5, 0, 0];
const even = [5, 5, 5, 5, 5, 5, 5, 5];
const ep4Ranks = (): EpRankReport[] => [
  ...[0, 1, 2, 3].map((r) => ({ rank: r, coords: coords({ ep: r, edp: 0, dp: r }), tokensPerExpert: skewed })),
  ...[0, 1, 2, 3].map((r) => ({ rank: 4 + r, coords: coords({ ep: r, edp: 1, dp: 4 + r }), tokensPerExpert: even })),
];

describe("computeEpLoad", () => {
  it("derives received tokens per EP rank and finds the worst", () => {
    const got = computeEpLoad(ep4Ranks(), ep4);
    // edp 0: 4 sources x [10+10, 5+5, 5+5, 0+0] = [80, 40, 40, 0]; mean 160/4 = 40; ratio 80/40 = 2
    // edp 1: 4 sources x [5+5] = 40 for every EP rank; ratio 1
    expect(got.groups).toEqual([
      { edp: 0, pp: 0, received: [80, 40, 40, 0], demand: [80, 40, 40, 0], demandRatio: 2, mean: 40, max: 80, ratio: 2, ranksReported: 4, ranksExpected: 4 },
      { edp: 1, pp: 0, received: [40, 40, 40, 40], demand: [40, 40, 40, 40], demandRatio: 1, mean: 40, max: 40, ratio: 1, ranksReported: 4, ranksExpected: 4 },
    ]);
    expect(got.worst).toEqual({ edp: 0, pp: 0, epRank: 0, received: 80, mean: 40, ratio: 2 });
    expect(got.epImbalance).toBe(2);
    // No counts before dropping: the demand is the dispatched load.
    expect(got.demandImbalance).toBe(2);
    expect(got.mismatches).toEqual([]);
  });

  it("prefers reported received counts and flags disagreements", () => {
    const ranks = ep4Ranks();
    // EP rank 0 reports 45 + 35 = 80 = derived; EP rank 1 reports 20 + 25 = 45, derived 40
    ranks[0] = { ...ranks[0], receivedPerLocalExpert: [45, 35] };
    ranks[1] = { ...ranks[1], receivedPerLocalExpert: [20, 25] };
    const got = computeEpLoad(ranks, ep4);
    // edp 0 received [80, 45, 40, 0]: mean 165/4 = 41.25, ratio 80/41.25
    expect(got.groups[0]).toMatchObject({ received: [80, 45, 40, 0], mean: 41.25, max: 80 });
    expect(got.groups[0].ratio).toBeCloseTo(80 / 41.25, 12);
    expect(got.mismatches).toEqual([{ rank: 1, epRank: 1, derived: 40, reported: 45 }]);
  });

  it("ETP > 1: every group member is a source, ETP peers receive the same tokens", () => {
    // TP = ETP = 2 with SP, EP 2, E 4, world 4 -> one group of 4 ranks; EP rank 0 hosts experts 0-1, EP rank 1 hosts 2-3
    const config = withConfig(small, { num_experts: 4, tensor_model_parallel_size: 2, sequence_parallel: true, disable_bias_linear: true, expert_model_parallel_size: 2 });
    const ranks: EpRankReport[] = [
      { rank: 0, coords: coords({ tp: 0, etp: 0, ep: 0 }), tokensPerExpert: [4, 0, 2, 2] },
      { rank: 1, coords: coords({ tp: 1, etp: 1, ep: 0 }), tokensPerExpert: [4, 0, 2, 2] },
      // expert 2: 2+2+2+4 = 10, expert 3: 2+2+2+4 = 10 -> both ETP ranks of EP rank 1 receive [10, 10]
      { rank: 2, coords: coords({ tp: 0, etp: 0, ep: 1, dp: 1 }), tokensPerExpert: [2, 2, 2, 2], receivedPerLocalExpert: [10, 10] },
      { rank: 3, coords: coords({ tp: 1, etp: 1, ep: 1, dp: 1 }), tokensPerExpert: [0, 0, 4, 4], receivedPerLocalExpert: [10, 10] },
    ];
    const got = computeEpLoad(ranks, config);
    // R[0] = (4+0)+(4+0)+(2+2)+(0+0) = 12; R[1] = 4+4+4+8 = 20; mean 16; ratio 20/16 = 1.25
    expect(got.groups).toEqual([{ edp: 0, pp: 0, received: [12, 20], demand: [12, 20], demandRatio: 1.25, mean: 16, max: 20, ratio: 1.25, ranksReported: 4, ranksExpected: 4 }]);
    expect(got.worst).toEqual({ edp: 0, pp: 0, epRank: 1, received: 20, mean: 16, ratio: 1.25 });
    expect(got.mismatches).toEqual([]);
  });

  it("TP 2 without sequence parallelism: the EP rank receives both TP copies", () => {
    // TP = ETP = 2, no SP, E 4, EP 2, world 4 -> one dispatch group of 4 ranks. Both TP ranks of a DP
    // replica routed the same tokens, and Megatron's all-to-all dispatcher gathers over tp_ep_group and
    // dispatches each TP rank's copy: received = sum over all four sources, not over tp rank 0 only.
    const config = withConfig(small, { num_experts: 4, tensor_model_parallel_size: 2, sequence_parallel: false, expert_model_parallel_size: 2, disable_bias_linear: true });
    const ranks: EpRankReport[] = [
      { rank: 0, coords: coords({ tp: 0, etp: 0, ep: 0, dp: 0 }), tokensPerExpert: [6, 2, 1, 1] },
      { rank: 1, coords: coords({ tp: 1, etp: 1, ep: 0, dp: 0 }), tokensPerExpert: [6, 2, 1, 1] },
      { rank: 2, coords: coords({ tp: 0, etp: 0, ep: 1, dp: 1 }), tokensPerExpert: [3, 3, 2, 2] },
      { rank: 3, coords: coords({ tp: 1, etp: 1, ep: 1, dp: 1 }), tokensPerExpert: [3, 3, 2, 2] },
    ];
    // EP rank 0 (experts 0-1): 2 x (6+2) + 2 x (3+3) = 28; EP rank 1 (experts 2-3): 2 x 2 + 2 x 4 = 12.
    // (TP rank 0 only would give [14, 6].) Mean 20 -> ratio 28/20 = 1.4.
    const got = computeEpLoad(ranks, config);
    expect(got.groups[0]).toMatchObject({ received: [28, 12], demand: [28, 12], mean: 20, max: 28, ranksReported: 4, ranksExpected: 4 });
    expect(got.epImbalance).toBeCloseTo(1.4, 12);
    // A rank that measured what it received agrees with the doubled value: no mismatch is flagged.
    const measured = ranks.map((r) => ({ ...r, receivedPerLocalExpert: r.coords.ep === 0 ? [18, 10] : [6, 6] }));
    expect(computeEpLoad(measured, config).mismatches).toEqual([]);
  });

  it("with a capacity factor: received is the dispatched load, demand the load before dropping", () => {
    // EP 4 groups of ep4: edp 0 sends skewed counts that were capped at 6 per expert by dropping.
    const ranks = ep4Ranks().map((r) =>
      r.coords.edp === 0 ? { ...r, tokensPerExpert: [6, 6, 5, 5, 5, 5, 0, 0], tokensPerExpertBeforeDrop: skewed } : r,
    );
    const got = computeEpLoad(ranks, ep4);
    // received: 4 x [12, 10, 10, 0] = [48, 40, 40, 0], mean 32, ratio 1.5; demand: [80, 40, 40, 0], ratio 2.
    expect(got.groups[0]).toMatchObject({ received: [48, 40, 40, 0], demand: [80, 40, 40, 0], demandRatio: 2, mean: 32, max: 48, ratio: 1.5 });
    expect(got.epImbalance).toBe(1.5);
    expect(got.demandImbalance).toBe(2);
  });

  it("partial group: counts what arrived, says so, and does not cross-check", () => {
    const ranks = ep4Ranks().slice(0, 2);
    ranks[1] = { ...ranks[1], receivedPerLocalExpert: [100, 100] };
    const got = computeEpLoad(ranks, ep4);
    // 2 sources x [20, 10, 10, 0] = [40, 20, 20, 0], but EP rank 1 reported 200 and that is used
    expect(got.groups).toEqual([{ edp: 0, pp: 0, received: [40, 200, 20, 0], demand: [40, 20, 20, 0], demandRatio: 2, mean: 65, max: 200, ratio: 200 / 65, ranksReported: 2, ranksExpected: 4 }]);
    expect(got.mismatches).toEqual([]);
  });

  it("no tokens: ratio null, no worst rank", () => {
    const got = computeEpLoad([{ rank: 0, coords: coords({}), tokensPerExpert: Array<number>(8).fill(0) }], ep4);
    expect(got.groups[0].ratio).toBeNull();
    expect(got.worst).toBeNull();
    expect(got.epImbalance).toBeNull();
  });

  it.each([
    { name: "EP rank out of range", ranks: [{ rank: 9, coords: coords({ ep: 4 }), tokensPerExpert: even }], message: "rank 9 has EP rank 4, expected 0..3" },
    {
      name: "duplicate slot",
      ranks: [
        { rank: 0, coords: coords({ ep: 1 }), tokensPerExpert: even },
        { rank: 1, coords: coords({ ep: 1 }), tokensPerExpert: even },
      ],
      message: "two reports for edp 0, pp 0, EP rank 1, ETP rank 0",
    },
    { name: "received of wrong length", ranks: [{ rank: 0, coords: coords({}), tokensPerExpert: even, receivedPerLocalExpert: [1, 2, 3] }], message: "ranks[0].receivedPerLocalExpert has 3 entries, expected 2" },
  ])("rejects $name", ({ ranks, message }) => {
    expect(() => computeEpLoad(ranks, ep4)).toThrow(message);
  });
});
