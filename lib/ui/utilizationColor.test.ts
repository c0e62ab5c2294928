import { describe, expect, it } from "vitest";
import {
  heatLegendStops,
  isDeadUtilization,
  mixHex,
  parseHex,
  utilizationColor,
  type HeatPalette,
} from "./utilizationColor";

const P: HeatPalette = { cold: "#0000ff", neutral: "#ffffff", hot: "#ff0000", dead: "#000000", empty: "#808080" };

describe("utilizationColor", () => {
  it.each([
    { name: "perfect balance is neutral", u: 1, want: "#ffffff" },
    { name: "saturated hot at 3x the mean", u: 3, want: "#ff0000" },
    { name: "beyond saturation stays hot", u: 12, want: "#ff0000" },
    { name: "halfway to hot at 2x", u: 2, want: "#ff8080" },
    { name: "fully cold at the dead threshold", u: 0.1, want: "#0000ff" },
    { name: "halfway to cold at 0.55", u: 0.55, want: "#8080ff" },
    { name: "dead just below 0.1", u: 0.0999, want: "#000000" },
    { name: "zero load is dead", u: 0, want: "#000000" },
    { name: "missing value is empty", u: null, want: "#808080" },
    { name: "NaN (no tokens in the layer) is empty", u: Number.NaN, want: "#808080" },
  ])("$name", ({ u, want }) => {
    expect(utilizationColor(u, P)).toBe(want);
  });

  it("hot side gets redder monotonically", () => {
    const reds = [1, 1.5, 2, 2.5, 3].map((u) => parseHex(utilizationColor(u, P))[1]);
    for (let i = 1; i < reds.length; i++) expect(reds[i]).toBeLessThan(reds[i - 1]);
  });
});

describe("isDeadUtilization", () => {
  it("uses a strict threshold of 0.1", () => {
    expect(isDeadUtilization(0.1)).toBe(false);
    expect(isDeadUtilization(0.09)).toBe(true);
  });
});

describe("parseHex / mixHex", () => {
  it("parses short and long forms", () => {
    expect(parseHex("#fa0")).toEqual([255, 170, 0]);
    expect(parseHex(" #2166ac ")).toEqual([0x21, 0x66, 0xac]);
  });
  it("rejects non-hex colours", () => {
    expect(() => parseHex("rgb(0,0,0)")).toThrow(/not a hex colour/);
  });
  it("clamps t into [0, 1]", () => {
    expect(mixHex("#000000", "#ffffff", -1)).toBe("#000000");
    expect(mixHex("#000000", "#ffffff", 2)).toBe("#ffffff");
    expect(mixHex("#000000", "#ffffff", 0.5)).toBe("#808080");
  });
});

describe("heatLegendStops", () => {
  it("runs from cold through neutral to hot", () => {
    const stops = heatLegendStops(P);
    expect(stops.map((s) => s.u)).toEqual([0.1, 0.5, 1, 2, 3]);
    expect(stops[0].color).toBe("#0000ff");
    expect(stops[2].color).toBe("#ffffff");
    expect(stops[4].color).toBe("#ff0000");
  });
});
