import { describe, expect, it } from "vitest";
import { computeLayerMetrics } from "./computeLayerMetrics";
import { InvalidInput } from "./errors";

const ln = Math.log;

describe("computeLayerMetrics", () => {
  const cases: Array<{
    name: string;
    load: number[];
    topk?: number;
    want: { total: number; mean: number; maxVio: number | null; cv: number | null; normalizedEntropy: number | null; deadExperts: number[] };
    share?: number[];
    utilization?: number[];
    hottest?: number[];
    coldest?: number[];
  }> = [
    {
      // mean 5, every u = 1, H = ln 4 -> normalized 1
      name: "perfectly balanced (E=4)",
      load: [5, 5, 5, 5],
      want: { total: 20, mean: 5, maxVio: 0, cv: 0, normalizedEntropy: 1, deadExperts: [] },
      share: [0.25, 0.25, 0.25, 0.25],
      utilization: [1, 1, 1, 1],
    },
    {
      // total 16, mean 4; maxVio = 10/4 - 1 = 1.5
      // var = (6^2 + 3 * 2^2)/4 = 12 -> cv = sqrt(12)/4 = sqrt(3)/2 = 0.8660
      // f = [.625, .125, .125, .125]; H = -(.625 ln .625 + 3 * .125 ln .125) = 1.07354; / ln 4 = 0.77441
      name: "one hot expert (E=4)",
      load: [10, 2, 2, 2],
      want: {
        total: 16,
        mean: 4,
        maxVio: 1.5,
        cv: Math.sqrt(3) / 2,
        normalizedEntropy: -(0.625 * ln(0.625) + 3 * 0.125 * ln(0.125)) / ln(4),
        deadExperts: [],
      },
      share: [0.625, 0.125, 0.125, 0.125],
      utilization: [2.5, 0.5, 0.5, 0.5],
      hottest: [0, 1, 2],
      coldest: [1, 2, 3],
    },
    {
      // total 40, mean 10; u[3] = 0.5/10 = 0.05 < 0.1 -> dead; maxVio = 13.5/10 - 1 = 0.35
      // deviations [3, 3, 3.5, -9.5] -> var = (9 + 9 + 12.25 + 90.25)/4 = 30.125; cv = sqrt(30.125)/10
      // f = [.325, .325, .3375, .0125]
      name: "a dead expert",
      load: [13, 13, 13.5, 0.5],
      want: {
        total: 40,
        mean: 10,
        maxVio: 0.35,
        cv: Math.sqrt(30.125) / 10,
        normalizedEntropy: -(2 * 0.325 * ln(0.325) + 0.3375 * ln(0.3375) + 0.0125 * ln(0.0125)) / ln(4),
        deadExperts: [3],
      },
    },
    {
      // u[3] = 1/10 = 0.1 exactly: the threshold is strict, so not dead
      name: "utilization exactly 0.1 is not dead",
      load: [13, 13, 13, 1],
      want: {
        total: 40,
        mean: 10,
        maxVio: 0.3,
        // deviations [3, 3, 3, -9] -> (27 + 81)/4 = 27
        cv: Math.sqrt(27) / 10,
        normalizedEntropy: -(3 * 0.325 * ln(0.325) + 0.025 * ln(0.025)) / ln(4),
        deadExperts: [],
      },
    },
    {
      // E=8, k=2, 512 tokens -> 1024 assignments, mean 128; maxVio = 256/128 - 1 = 1
      // var = (128^2 + 2 * 64^2)/8 = 3072 -> cv = sqrt(3072)/128 = 0.4330
      // f = [1/4, 1/8 x5, 1/16 x2]; H = ln2 * (0.25*2 + 0.625*3 + 0.125*4) = 2.875 ln2; / ln8 = 2.875/3
      name: "E=8 top-2",
      load: [256, 128, 128, 128, 128, 128, 64, 64],
      want: { total: 1024, mean: 128, maxVio: 1, cv: Math.sqrt(3072) / 128, normalizedEntropy: 2.875 / 3, deadExperts: [] },
      hottest: [0, 1, 2],
      // ties broken by lower index
      coldest: [6, 7, 1],
    },
    {
      // E=64, k=1, 6400 tokens, mean 100: expert 0 = 700, experts 1..60 = 95, experts 61..63 = 0 (dead)
      // maxVio = 700/100 - 1 = 6; var = (600^2 + 60 * 5^2 + 3 * 100^2)/64 = 391500/64 -> cv = sqrt(6117.1875)/100
      // f0 = 700/6400 = 0.109375, f1..60 = 95/6400 = 0.01484375
      name: "E=64 top-1 with three dead experts",
      load: [700, ...Array<number>(60).fill(95), 0, 0, 0],
      topk: 2,
      want: {
        total: 6400,
        mean: 100,
        maxVio: 6,
        cv: Math.sqrt(391500 / 64) / 100,
        normalizedEntropy: -(0.109375 * ln(0.109375) + 60 * 0.01484375 * ln(0.01484375)) / ln(64),
        deadExperts: [61, 62, 63],
      },
      hottest: [0, 1],
      coldest: [61, 62],
    },
    {
      // E=256, k=8, 4096 tokens -> 32768 assignments, mean 128: half the experts 192, half 64
      // maxVio = 192/128 - 1 = 0.5; every deviation is 64 -> cv = 64/128 = 0.5
      // f = 3/512 or 1/512: H = -(0.75 ln(3/512) + 0.25 ln(1/512)) = 9 ln2 - 0.75 ln3; / (8 ln2)
      name: "E=256 top-8",
      load: [...Array<number>(128).fill(192), ...Array<number>(128).fill(64)],
      topk: 2,
      want: { total: 32768, mean: 128, maxVio: 0.5, cv: 0.5, normalizedEntropy: (9 * ln(2) - 0.75 * ln(3)) / (8 * ln(2)), deadExperts: [] },
      hottest: [0, 1],
      coldest: [128, 129],
    },
    {
      name: "no tokens: metrics are null, nobody is dead",
      load: [0, 0, 0],
      want: { total: 0, mean: 0, maxVio: null, cv: null, normalizedEntropy: null, deadExperts: [] },
      share: [0, 0, 0],
      utilization: [0, 0, 0],
    },
    {
      // one expert: balanced by definition (ln 1 = 0 would be 0/0)
      name: "single expert",
      load: [7],
      want: { total: 7, mean: 7, maxVio: 0, cv: 0, normalizedEntropy: 1, deadExperts: [] },
    },
  ];

  it.each(cases)("$name", ({ load, topk, want, share, utilization, hottest, coldest }) => {
    const got = computeLayerMetrics(load, topk);
    expect(got.total).toBe(want.total);
    expect(got.mean).toBe(want.mean);
    expect(got.deadExperts).toEqual(want.deadExperts);
    for (const key of ["maxVio", "cv", "normalizedEntropy"] as const) {
      if (want[key] === null) expect(got[key]).toBeNull();
      else expect(got[key]).toBeCloseTo(want[key] as number, 12);
    }
    if (share) share.forEach((s, i) => expect(got.share[i]).toBeCloseTo(s, 12));
    if (utilization) utilization.forEach((u, i) => expect(got.utilization[i]).toBeCloseTo(u, 12));
    if (hottest) expect(got.hottest.map((h) => h.expert)).toEqual(hottest);
    if (coldest) expect(got.coldest.map((c) => c.expert)).toEqual(coldest);
  });

  it("hottest entries carry load and utilization", () => {
    // mean 4: expert 0 has u = 10/4 = 2.5
    expect(computeLayerMetrics([10, 2, 2, 2], 1).hottest).toEqual([{ expert: 0, load: 10, utilization: 2.5 }]);
  });

  it.each([
    { name: "no experts", load: [] as number[], message: /load has no experts/ },
    { name: "negative load", load: [1, -1], message: /load\[1\] is -1/ },
    { name: "NaN load", load: [1, Number.NaN], message: /load\[1\] is NaN/ },
  ])("rejects $name", ({ load, message }) => {
    expect(() => computeLayerMetrics(load)).toThrow(InvalidInput);
    expect(() => computeLayerMetrics(load)).toThrow(message);
  });
});
