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

  it("gives each source rank its own capacity and drops", () => {
    // Capacity is per source rank: C = ceil(((T_local * k) / E) * cf) with that rank's own T_local.
    const r = capacityWhatIf(
      [
        // rank 3: T = 10 -> T*k/E = 5, cf 1.1 -> C = ceil(5.5) = 6; drops 9-6 = 3 of 20.
        { rank: 3, tokens: 10, microBatches: 1, tokensPerExpert: [6, 6, 4, 2], tokensPerExpertBeforeDrop: [9, 5, 4, 2] },
        // rank 7: T = 100 over 4 micro-batches -> 25 per micro-batch, 12.5 * 1.1 = 13.75 -> C = 14, 4C = 56;
        // drops (80-56) + (60-56) = 28 of 200.
        { rank: 7, tokens: 100, microBatches: 4, tokensPerExpert: [56, 56, 52, 8], tokensPerExpertBeforeDrop: [80, 60, 52, 8] },
        // rank 9 routed nothing: no capacity to report.
        { rank: 9, tokens: 0, microBatches: 1, tokensPerExpert: [0, 0, 0, 0] },
      ],
      2,
      1.1,
    );
    expect(r.perRank).toEqual([
      { rank: 3, tokens: 10, microBatches: 1, capacityPerMicroBatch: 6, capacityPerExpert: 6, dropped: 3, assignments: 20, dropFraction: 0.15, capacityFactorForZeroDrops: 9 / 5 },
      { rank: 7, tokens: 100, microBatches: 4, capacityPerMicroBatch: 14, capacityPerExpert: 56, dropped: 28, assignments: 200, dropFraction: 0.14, capacityFactorForZeroDrops: 80 / 50 },
    ]);
    // The layer totals are the sums of the per-rank rows.
    expect(r).toMatchObject({ dropped: 31, assignments: 220 });
  });

  it("numbers ranks by position when the caller does not name them", () => {
    expect(capacityWhatIf([hot, flat], 2, 1.0).perRank.map((p) => [p.rank, p.dropped])).toEqual([[0, 4], [1, 0]]);
  });

  it("is empty without reports", () => {
    expect(capacityWhatIf([], 2, 1)).toMatchObject({ dropped: 0, assignments: 0, dropFraction: 0, capacityFactorForZeroDrops: 0, perRank: [] });
  });
});
