import { describe, expect, it } from "vitest";
import type { ImbalanceHeatmapDto } from "../dto";
import { imbalanceColor, imbalanceMetricInfo, parseImbalanceMetric, prepareImbalanceHeatmap, prepareImbalanceSummary } from "./prepareImbalanceHeatmap";
import type { HeatPalette } from "./utilizationColor";

const P: HeatPalette = { cold: "#0000ff", neutral: "#ffffff", hot: "#ff0000", dead: "#000000", empty: "#808080" };

// Shaped like GET /api/runs/{id}/imbalance?metric=epImbalance of a 16-rank, 8-expert simulated run (2 layers, 3 buckets of 2 steps).
const EP: ImbalanceHeatmapDto = {
  runId: "r",
  metric: "epImbalance",
  reduce: "max",
  bucketSize: 2,
  layers: [1, 2],
  steps: [1, 3, 5],
  values: [
    [1.53, 1.888671875, null],
    [1.0, 1.44, 3.4],
  ],
  summary: [
    { step: 1, min: 1.0, median: 1.265, p90: 1.477, max: 1.53 },
    { step: 3, min: 1.44, median: 1.664, p90: 1.844, max: 1.888671875 },
    { step: 5, min: 3.4, median: 3.4, p90: 3.4, max: 3.4 },
  ],
};

describe("parseImbalanceMetric", () => {
  it.each([
    ["epImbalance", "epImbalance"],
    ["cv", "cv"],
    [["entropy", "cv"], "entropy"],
    ["bogus", "epImbalance"],
    [undefined, "epImbalance"],
  ] as const)("%s -> %s", (raw, want) => {
    expect(parseImbalanceMetric(raw as string | string[] | undefined)).toBe(want);
  });
});

describe("imbalanceColor", () => {
  const ep = imbalanceMetricInfo("epImbalance");
  const ent = imbalanceMetricInfo("entropy");
  it.each([
    ["balanced EP is neutral", ep, 1, "#ffffff"],
    ["EP 2x is halfway to hot", ep, 2, "#ff8080"],
    ["EP beyond 3x saturates", ep, 4.2, "#ff0000"],
    ["below balanced clamps to neutral", ep, 0.9, "#ffffff"],
    ["entropy 1 is neutral", ent, 1, "#ffffff"],
    ["entropy 0.5 is fully hot (low is bad)", ent, 0.5, "#ff0000"],
    ["missing is empty", ep, null, "#808080"],
  ] as const)("%s", (_name, info, v, want) => {
    expect(imbalanceColor(info, v, P)).toBe(want);
  });
});

describe("prepareImbalanceHeatmap", () => {
  const m = prepareImbalanceHeatmap(EP, P);
  it("keeps one row per MoE layer with the server's bucket values", () => {
    expect(m.rows.map((r) => r.label)).toEqual(["L1", "L2"]);
    expect(m.rows[0].values).toEqual([1.53, 1.888671875, null]);
    expect(m.rows[0].colors[2]).toBe("#808080");
    expect(m.cellCount).toBe(5);
  });
  it("finds the worst cell (highest for EP imbalance)", () => {
    expect(m.worst).toEqual({ layer: 2, step: 5, value: 3.4 });
  });
  it("finds the lowest cell for entropy", () => {
    const e = prepareImbalanceHeatmap({ ...EP, metric: "entropy", reduce: "min", values: [[0.93, 0.61, null], [0.99, 0.88, 0.97]] }, P);
    expect(e.worst).toEqual({ layer: 1, step: 3, value: 0.61 });
  });
  it("has a legend from balanced to saturated", () => {
    expect(m.legend.map((s) => s.value)).toEqual([1, 1.5, 2, 2.5, 3]);
    expect(m.legend[4].color).toBe("#ff0000");
  });
});

describe("prepareImbalanceSummary", () => {
  it("turns min/max into a band and pads the y range around balanced and the data", () => {
    const s = prepareImbalanceSummary(EP);
    expect(s.rows[1]).toEqual({ step: 3, band: [1.44, 1.888671875], median: 1.664, p90: 1.844 });
    expect(s.reference).toBe(1);
    expect(s.yDomain![0]).toBeCloseTo(0.88, 5);
    expect(s.yDomain![1]).toBeCloseTo(3.52, 5);
  });
  it("has no domain without data", () => {
    expect(prepareImbalanceSummary({ ...EP, steps: [], values: [[], []], summary: [] }).yDomain).toBeNull();
  });
});
