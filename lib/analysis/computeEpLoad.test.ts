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
      { edp: 0, pp: 0, received: [80, 40, 40, 0], mean: 40, max: 80, ratio: 2, ranksReported: 4, ranksExpected: 4 },
      { edp: 1, pp: 0, received: [40, 40, 40, 40], mean: 40, max: 40, ratio: 1, ranksReported: 4, ranksExpected: 4 },
    ]);
    expect(got.worst).toEqual({ edp: 0, pp: 0, epRank: 0, received: 80, mean: 40, ratio: 2 });
    expect(got.epImbalance).toBe(2);
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
    expect(got.groups).toEqual([{ edp: 0, pp: 0, received: [12, 20], mean: 16, max: 20, ratio: 1.25, ranksReported: 4, ranksExpected: 4 }]);
    expect(got.worst).toEqual({ edp: 0, pp: 0, epRank: 1, received: 20, mean: 16, ratio: 1.25 });
    expect(got.mismatches).toEqual([]);
  });

  it("without sequence parallelism only tp rank 0 is a source", () => {
    // TP = ETP = 2, no SP: both TP ranks routed the same tokens [6, 2]; E 2, EP 1 -> R[0] = 8, not 16
    const config = withConfig(small, { num_experts: 2, tensor_model_parallel_size: 2, sequence_parallel: false });
    const ranks: EpRankReport[] = [
      { rank: 0, coords: coords({ tp: 0, etp: 0 }), tokensPerExpert: [6, 2] },
      { rank: 1, coords: coords({ tp: 1, etp: 1 }), tokensPerExpert: [6, 2] },
    ];
    expect(computeEpLoad(ranks, config).groups[0]).toMatchObject({ received: [8], ranksReported: 2, ranksExpected: 2 });
  });

  it("partial group: counts what arrived, says so, and does not cross-check", () => {
    const ranks = ep4Ranks().slice(0, 2);
    ranks[1] = { ...ranks[1], receivedPerLocalExpert: [100, 100] };
    const got = computeEpLoad(ranks, ep4);
    // 2 sources x [20, 10, 10, 0] = [40, 20, 20, 0], but EP rank 1 reported 200 and that is used
    expect(got.groups).toEqual([{ edp: 0, pp: 0, received: [40, 200, 20, 0], mean: 65, max: 200, ratio: 200 / 65, ranksReported: 2, ranksExpected: 4 }]);
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
