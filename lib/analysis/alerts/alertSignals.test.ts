import { describe, expect, it } from "vitest";
import { lossBaseline, signalsFromAggregate, signalsFromStepSample, spikeRatio, type LossPoint } from "./alertSignals";

describe("spikeRatio", () => {
  const cases: Array<[string, number, number[], number | null]> = [
    ["needs a baseline of 5", 4, [1, 1, 1, 1], null],
    ["value over the median of the previous values", 4, [1, 2, 2, 3, 100], 2],
    ["even count: mean of the middle two", 5, [1, 2, 3, 4, 5, 6], 5 / 3.5],
    ["zero baseline gives no ratio", 3, [0, 0, 0, 0, 0], null],
  ];
  for (const [name, v, prev, expected] of cases) {
    it(name, () => (expected === null ? expect(spikeRatio(v, prev)).toBeNull() : expect(spikeRatio(v, prev)).toBeCloseTo(expected, 12)));
  }
});

describe("lossBaseline", () => {
  const pt = (step: number, aux: number | null, z: number | null = null): LossPoint => ({ step, aux, z });
  const history = [pt(1, 10, 1), pt(2, 20), pt(4, 40, 4), pt(5, null, 5), pt(7, 70, 7), pt(8, 80, 8)];
  const cases: Array<[string, readonly LossPoint[], number, { aux: number; z: number }, { aux: number[]; z: number[] }]> = [
    ["the last window values before the step, in step order", history, 8, { aux: 2, z: 2 }, { aux: [40, 70], z: [5, 7] }],
    ["never the step itself or later ones", history, 7, { aux: 9, z: 9 }, { aux: [10, 20, 40], z: [1, 4, 5] }],
    ["a step between points counts the points before it", history, 6, { aux: 9, z: 9 }, { aux: [10, 20, 40], z: [1, 4, 5] }],
    ["nulls are skipped, not counted against the window", history, 9, { aux: 3, z: 1 }, { aux: [40, 70, 80], z: [8] }],
    ["the windows are per loss", history, 9, { aux: 1, z: 4 }, { aux: [80], z: [4, 5, 7, 8] }],
    ["nothing before the first point", history, 1, { aux: 5, z: 5 }, { aux: [], z: [] }],
    ["an empty history", [], 3, { aux: 5, z: 5 }, { aux: [], z: [] }],
    ["after the last point: the tail", history, 100, { aux: 20, z: 20 }, { aux: [10, 20, 40, 70, 80], z: [1, 4, 5, 7, 8] }],
  ];
  for (const [name, h, step, windows, expected] of cases) it(name, () => expect(lossBaseline(h, step, windows)).toEqual(expected));
});

describe("signalsFromAggregate", () => {
  it("emits each layer rule with its value and the worst EP rank as labels", () => {
    const s = signalsFromAggregate(
      { step: 150, layer: 17, maxVio: 1.4, epImbalance: 3.1, epWorst: { edp: 2, epRank: 5 }, losses: { load_balancing_loss: 1.6, z_loss: 30 }, dropFraction: null },
      { aux: [1.2, 1.2, 1.2, 1.2, 1.2], z: [10, 10, 10, 10, 10] },
    );
    const byRule = Object.fromEntries(s.map((x) => [x.ruleId, x]));
    expect(Object.keys(byRule).sort()).toEqual(["aux-loss-high", "aux-loss-spike", "ep-imbalance-high", "maxvio-high", "z-loss-high", "z-loss-spike"]);
    expect(byRule["ep-imbalance-high"]).toMatchObject({ scope: "layer:17", layer: 17, value: 3.1, step: 150, labels: { edp: 2, epRank: 5 } });
    expect(byRule["aux-loss-spike"].value).toBeCloseTo(1.6 / 1.2, 12);
    expect(byRule["z-loss-spike"].value).toBe(3);
  });
});

describe("signalsFromStepSample", () => {
  const mem = (peak: number, retries: number) => ({ allocatedBytes: 1, reservedBytes: peak, peakAllocatedBytes: peak, numOoms: 0, numAllocRetries: retries });
  it("reports headroom as peak / GPU memory, retry growth since the previous step, and that the rank is alive", () => {
    const s = signalsFromStepSample(37, { step: 12, memory: mem(72, 5) }, { step: 11, numAllocRetries: 2 }, 80);
    expect(s.map((x) => [x.ruleId, x.value])).toEqual([
      ["rank-silent", 0],
      ["memory-headroom-low", 0.9],
      ["alloc-retries-growing", 3],
    ]);
    expect(s.every((x) => x.scope === "rank:37" && x.rank === 37)).toBe(true);
  });

  it("has no retry growth without a baseline", () => {
    const s = signalsFromStepSample(3, { step: 1, memory: mem(10, 4) }, undefined, 80);
    expect(s.find((x) => x.ruleId === "alloc-retries-growing")).toMatchObject({ value: 0, labels: { numAllocRetries: 4 } });
  });
});
