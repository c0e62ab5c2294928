import { describe, expect, it } from "vitest";
import { mixtral8x7b, small, withConfig } from "../testdata/configs";
import type { RankCoords } from "../types";
import { predictEpLoad } from "./predictEpLoad";
import { observeLayers, seededRandom } from "./testdata/observations";
import type { AdvisorLayerObservation } from "./types";

// World 8, TP1 PP1 CP1 (DP 8), E 8, k 2, today EP 4 ETP 1 (EDP 2): rank r has ep r%4, edp r/4.
const ep4 = withConfig(small, { expert_model_parallel_size: 4, disable_bias_linear: true });
const skewed = [10, 10, 5, 5, 5, 5, 0, 0];
const even = [5, 5, 5, 5, 5, 5, 5, 5];
const coordsNow = (r: number): RankCoords => ({ tp: 0, cp: 0, dp: r, pp: 0, ep: r % 4, etp: 0, edp: Math.floor(r / 4) });
const layer: AdvisorLayerObservation = {
  layer: 1,
  reports: Array.from({ length: 8 }, (_, r) => ({ rank: r, coords: coordsNow(r), tokens: 20, microBatches: 1, tokensPerExpert: r < 4 ? skewed : even })),
};

describe("predictEpLoad", () => {
  const cases = [
    // today: edp 0 = ranks 0-3, EP rank r hosts experts 2r, 2r+1: 4 x [20, 10, 10, 0] = [80, 40, 40, 0], mean 40
    { name: "unchanged layout", change: { ep: 4, etp: 1 }, worstRatio: 2, worstReceived: 80 },
    // ETP 2 EP 2: rank r -> etp r%2, ep (r/2)%2, edp r/4; edp 0 = ranks 0-3; EP rank 0 hosts experts 0-3:
    // 4 x (10+10+5+5) = 120, EP rank 1: 4 x (5+5+0+0) = 40; mean 80 -> 1.5
    { name: "EP 4 -> 2, ETP 1 -> 2", change: { ep: 2, etp: 2 }, worstRatio: 1.5, worstReceived: 120 },
    // ETP 1 EP 2: edp (r/2)%4, groups {0,1} {2,3} {4,5} {6,7}; group {0,1}: 2 x 30 = 60 vs 2 x 10 = 20 -> 1.5
    { name: "EP 4 -> 2, ETP 1", change: { ep: 2, etp: 1 }, worstRatio: 1.5, worstReceived: 60 },
    // ETP 4 EP 1: one EP rank hosts everything: 4 x 40 = 160, ratio 1
    { name: "EP 4 -> 1, ETP 1 -> 4", change: { ep: 1, etp: 4 }, worstRatio: 1, worstReceived: 160 },
    // ETP 2 EP 4: edp 0 = ranks 0-7 (one group of 8 sources): EP rank r: 4 x skewed pair + 4 x 10
    // = [80+40, 40+40, 40+40, 0+40] = [120, 80, 80, 40], mean 80 -> 1.5
    { name: "ETP 1 -> 2 at EP 4", change: { ep: 4, etp: 2 }, worstRatio: 1.5, worstReceived: 120 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = predictEpLoad([layer], ep4, 8, c.change);
      expect(got.worstRatio).toBeCloseTo(c.worstRatio, 12);
      expect(got.worstReceived).toBe(c.worstReceived);
      expect(got.perLayer).toEqual([{ layer: 1, worstRatio: got.worstRatio, worstReceived: c.worstReceived }]);
    });
  }

  it("rejects a layout Megatron would refuse", () => {
    expect(() => predictEpLoad([layer], ep4, 8, { ep: 4, etp: 4 })).toThrow(/not divisible by ETP\*EP\*PP = 16/);
  });

  it("matches a direct recomputation from per-rank counts on the 8x7B mesh", () => {
    const rand = seededRandom(7);
    const layers = observeLayers(mixtral8x7b, 64, {
      layers: [1, 2, 5, 14, 32],
      tokens: 4096,
      microBatches: 4,
      weights: () => Array.from({ length: 8 }, () => 0.05 + rand() ** 3),
    });
    const world = 64;
    const pp = 4;
    for (const { ep, etp } of [{ ep: 8, etp: 1 }, { ep: 4, etp: 2 }, { ep: 2, etp: 4 }, { ep: 2, etp: 1 }, { ep: 1, etp: 8 }, { ep: 8, etp: 2 }]) {
      const edp = world / (ep * etp * pp);
      const got = predictEpLoad(layers, mixtral8x7b, world, { ep, etp });
      for (const { layer, reports } of layers) {
        // rank = etp + ETP*(ep + EP*(edp + EDP*pp)), so a source's dispatch group (edp, pp) follows directly;
        // expert e is hosted by EP rank floor(e / (E/EP)).
        const received = new Map<string, number[]>();
        for (const r of reports) {
          const group = `${Math.floor(r.rank / (etp * ep)) % edp}/${r.coords.pp}`;
          const sums = received.get(group) ?? Array<number>(ep).fill(0);
          r.tokensPerExpert.forEach((c, e) => (sums[Math.floor(e / (8 / ep))] += c));
          received.set(group, sums);
        }
        let worstRatio = 0;
        let worstReceived = 0;
        for (const sums of received.values()) {
          const mean = sums.reduce((a, b) => a + b, 0) / ep;
          const max = Math.max(...sums);
          if (max / mean > worstRatio) [worstRatio, worstReceived] = [max / mean, max];
        }
        const mine = got.perLayer.find((l) => l.layer === layer)!;
        expect(mine.worstRatio).toBeCloseTo(worstRatio, 12);
        expect(mine.worstReceived).toBe(worstReceived);
      }
    }
  });
});
