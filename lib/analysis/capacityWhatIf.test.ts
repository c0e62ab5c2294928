import { describe, expect, it } from "vitest";
import { capacityWhatIf } from "./capacityWhatIf";

describe("capacityWhatIf", () => {
  // E = 4, k = 2, T = 10: T*k/E = 5.
  const hot = { tokens: 10, microBatches: 1, tokensPerExpert: [9, 5, 4, 2] };
  const flat = { tokens: 10, microBatches: 1, tokensPerExpert: [5, 5, 5, 5] };
  const cases = [
    // cf 1.0: C = ceil(5 * 1.0) = 5 -> hot drops 9-5 = 4; flat none. 4 / (2 * 20) = 0.1.
    { name: "cf 1.0", cf: 1.0, dropped: 4, fraction: 0.1 },
    // cf 1.5: C = ceil(7.5) = 8 -> hot drops 1.
    { name: "cf 1.5", cf: 1.5, dropped: 1, fraction: 1 / 40 },
    // cf 2.0: C = 10 -> nothing.
    { name: "cf 2.0", cf: 2.0, dropped: 0, fraction: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = capacityWhatIf([hot, flat], 2, c.cf);
      expect(r.dropped).toBe(c.dropped);
      expect(r.assignments).toBe(40);
      expect(r.dropFraction).toBeCloseTo(c.fraction, 12);
      // Zero drops need max(c)/(T*k/E) = 9/5 = 1.8 on the hot rank.
      expect(r.capacityFactorForZeroDrops).toBeCloseTo(1.8, 12);
      expect(r.estimate).toBe(false);
      expect(r.basis).toBe("dispatched");
    });
  }

  it("uses counts before dropping when ranks send them, and flags micro-batch sums as estimates", () => {
    const r = capacityWhatIf(
      [{ tokens: 20, microBatches: 2, tokensPerExpert: [10, 10, 10, 10], tokensPerExpertBeforeDrop: [18, 10, 8, 4] }],
      2,
      1.0,
    );
    // Per micro-batch T = 10 -> C = 5, over 2 micro-batches 10 per expert: 18 - 10 = 8 dropped of 40.
    expect(r.dropped).toBe(8);
    expect(r.dropFraction).toBeCloseTo(0.2, 12);
    expect(r.estimate).toBe(true);
    expect(r.basis).toBe("before-drop");
  });

  it("is empty without reports", () => {
    expect(capacityWhatIf([], 2, 1)).toMatchObject({ dropped: 0, assignments: 0, dropFraction: 0, capacityFactorForZeroDrops: 0 });
  });
});
