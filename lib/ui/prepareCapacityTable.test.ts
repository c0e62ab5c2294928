import { describe, expect, it } from "vitest";
import type { CapacityWhatIfDto } from "../dto";
import { clampCapacityFactor, formatDropPercent, parseCapacityFactor, prepareCapacityTable } from "./prepareCapacityTable";

describe("clampCapacityFactor / parseCapacityFactor", () => {
  it.each([
    ["snaps to the 0.05 grid", 1.1234, 1.1],
    ["keeps 1.25", 1.25, 1.25],
    ["clamps below 0.5", 0.1, 0.5],
    ["clamps above 4", 9, 4],
  ])("%s", (_n, v, want) => expect(clampCapacityFactor(v)).toBe(want));
  it.each([
    ["1.5", 1.5],
    ["abc", 1.25],
    ["", 1.25],
    [undefined, 1.25],
    [["2.0", "3"], 2],
  ] as const)("parses %s", (raw, want) => expect(parseCapacityFactor(raw as string | undefined)).toBe(want));
  it("uses the run's configured factor as the fallback", () => expect(parseCapacityFactor(undefined, 1.0)).toBe(1));
});

describe("formatDropPercent", () => {
  it.each([
    [0, "0%"],
    [0.00005, "<0.01%"],
    [0.0064, "0.64%"],
    [0.029, "2.9%"],
    [0.25, "25.0%"],
  ])("%s -> %s", (f, want) => expect(formatDropPercent(f)).toBe(want));
});

describe("prepareCapacityTable", () => {
  const dto: CapacityWhatIfDto = {
    runId: "r",
    step: 148,
    capacityFactor: 2,
    configuredCapacityFactor: null,
    layers: [
      { layer: 1, dropped: 33_554, assignments: 524_288, dropFraction: 0.064, capacityFactorForZeroDrops: 2.5913, estimate: true, basis: "dispatched",
        perRank: [
          { rank: 0, tokens: 65_536, microBatches: 4, capacityPerMicroBatch: 8192, capacityPerExpert: 32_768, dropped: 2_000, assignments: 131_072, dropFraction: 2_000 / 131_072, capacityFactorForZeroDrops: 2.1 },
          { rank: 1, tokens: 65_536, microBatches: 4, capacityPerMicroBatch: 8192, capacityPerExpert: 32_768, dropped: 31_554, assignments: 131_072, dropFraction: 31_554 / 131_072, capacityFactorForZeroDrops: 2.5913 },
        ] },
      { layer: 2, dropped: 0, assignments: 524_288, dropFraction: 0, capacityFactorForZeroDrops: 1.87, estimate: true, basis: "dispatched",
        perRank: [{ rank: 0, tokens: 65_536, microBatches: 1, capacityPerMicroBatch: 32_768, capacityPerExpert: 32_768, dropped: 0, assignments: 131_072, dropFraction: 0, capacityFactorForZeroDrops: 1.87 }] },
    ],
  };
  const m = prepareCapacityTable(dto);
  it("formats drop % and the factor needed for zero drops per layer", () => {
    expect(m.rows.map((r) => [r.layer, r.dropPercent, r.cfNeeded, r.covered])).toEqual([
      [1, "6.4%", "2.59", false],
      [2, "0%", "1.87", true],
    ]);
  });
  it("scales bars to the worst layer and names it", () => {
    expect(m.rows[0].barWidth).toBe(1);
    expect(m.rows[1].barWidth).toBe(0);
    expect(m.worst).toEqual({ layer: 1, dropPercent: "6.4%" });
  });
  it("names no worst layer when no layer drops", () => {
    const none = prepareCapacityTable({ ...dto, layers: dto.layers.map((l) => ({ ...l, dropped: 0, dropFraction: 0 })) });
    expect(none.worst).toBeNull();
  });
  it("lists each source rank's capacity and drops, the most-dropping rank first", () => {
    expect(m.rows[0].worstRank).toEqual({ rank: 1, capacity: "C 8192 · 4×C 32768", dropPercent: "24.1%", dropped: 31_554, assignments: 131_072, cfNeeded: "2.59" });
    expect(m.rows[0].ranks.map((r) => [r.rank, r.dropPercent])).toEqual([[1, "24.1%"], [0, "1.5%"]]);
    expect(m.rows[0].rankCount).toBe(2);
    // No rank drops: nothing to single out.
    expect(m.rows[1].worstRank).toBeNull();
    expect(m.rows[1].ranks[0].capacity).toBe("C 32768");
  });
  it("states the estimate and the count basis", () => {
    expect(m.anyEstimate).toBe(true);
    expect(m.bases).toEqual(["dispatched counts (after any dropping)"]);
  });
});
