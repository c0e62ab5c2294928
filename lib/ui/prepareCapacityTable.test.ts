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
      { layer: 1, dropped: 33_554, assignments: 524_288, dropFraction: 0.064, capacityFactorForZeroDrops: 2.5913, estimate: true, basis: "dispatched" },
      { layer: 2, dropped: 0, assignments: 524_288, dropFraction: 0, capacityFactorForZeroDrops: 1.87, estimate: true, basis: "dispatched" },
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
  it("states the estimate and the count basis", () => {
    expect(m.anyEstimate).toBe(true);
    expect(m.bases).toEqual(["dispatched counts (after any dropping)"]);
  });
});
