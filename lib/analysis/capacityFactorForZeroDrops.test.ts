import { describe, expect, it } from "vitest";
import { capacityFactorForZeroDrops } from "./capacityFactorForZeroDrops";
import { dropsAtCapacity } from "./dropsAtCapacity";

describe("capacityFactorForZeroDrops", () => {
  it.each([
    // fair share T*k/E = 100*2/4 = 50; max 80 -> 80/50 = 1.6
    { name: "one hot expert", counts: [80, 40, 40, 40], t: 100, k: 2, m: 1, want: 1.6, estimate: false },
    // balanced: max 50 / 50 = 1
    { name: "balanced needs 1.0", counts: [50, 50, 50, 50], t: 100, k: 2, m: 1, want: 1, estimate: false },
    // fair share 6400*1/64 = 100; max 700 -> 7
    { name: "E=64 top-1", counts: [700, ...Array<number>(63).fill(5700 / 63)], t: 6400, k: 1, m: 1, want: 7, estimate: false },
    { name: "summed micro-batches are an estimate", counts: [80, 40, 40, 40], t: 100, k: 2, m: 4, want: 1.6, estimate: true },
  ])("$name", ({ counts, t, k, m, want, estimate }) => {
    const got = capacityFactorForZeroDrops(counts, t, k, m);
    expect(got.capacityFactor).toBeCloseTo(want, 12);
    expect(got.estimate).toBe(estimate);
    if (m === 1) {
      // the factor really drops nothing under Megatron's rounding
      expect(dropsAtCapacity(counts, t, k, got.capacityFactor, 1).dropped).toBe(0);
    }
  });

  it("rejects a rank with no tokens", () => {
    expect(() => capacityFactorForZeroDrops([0, 0], 0, 2)).toThrow(/tokensLocal must be > 0/);
  });
});
