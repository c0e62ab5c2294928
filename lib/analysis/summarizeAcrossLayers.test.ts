import { describe, expect, it } from "vitest";
import { summarizeAcrossLayers } from "./summarizeAcrossLayers";

describe("summarizeAcrossLayers", () => {
  it.each([
    // sorted [1,2,3,4,5]: median at (5-1)*0.5 = 2 -> 3; p90 at (5-1)*0.9 = 3.6 -> 4 + 0.6*(5-4) = 4.6 (numpy: 4.6)
    { name: "odd count", values: [3, 1, 2, 5, 4], want: { min: 1, median: 3, p90: 4.6, max: 5, count: 5 } },
    // median at 0.5 -> 10 + 0.5*10 = 15; p90 at 0.9 -> 10 + 0.9*10 = 19
    { name: "two values interpolate", values: [20, 10], want: { min: 10, median: 15, p90: 19, max: 20, count: 2 } },
    // sorted [0,0,1,2]: median at 1.5 -> 0 + 0.5*(1-0) = 0.5; p90 at 2.7 -> 1 + 0.7*(2-1) = 1.7
    { name: "even count", values: [2, 0, 1, 0], want: { min: 0, median: 0.5, p90: 1.7, max: 2, count: 4 } },
    { name: "single value", values: [7], want: { min: 7, median: 7, p90: 7, max: 7, count: 1 } },
    { name: "no layers", values: [], want: { min: null, median: null, p90: null, max: null, count: 0 } },
  ])("$name", ({ values, want }) => {
    const got = summarizeAcrossLayers(values);
    expect(got.count).toBe(want.count);
    for (const key of ["min", "median", "p90", "max"] as const) {
      if (want[key] === null) expect(got[key]).toBeNull();
      else expect(got[key]).toBeCloseTo(want[key] as number, 12);
    }
  });

  it("rejects a non-finite value", () => {
    expect(() => summarizeAcrossLayers([1, Number.POSITIVE_INFINITY])).toThrow(/values\[1\] is Infinity/);
  });
});
