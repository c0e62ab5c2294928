import { describe, expect, it } from "vitest";
import { prepareLayerHeatmap } from "./prepareLayerHeatmap";
import { prepareExpertHeatmap } from "./prepareExpertHeatmap";
import { utilizationOf } from "./utilizationOf";
import type { HeatPalette } from "./utilizationColor";

const P: HeatPalette = { cold: "#0000ff", neutral: "#ffffff", hot: "#ff0000", dead: "#000000", empty: "#808080" };

describe("utilizationOf", () => {
  it("computes share and load / mean", () => {
    const s = utilizationOf([30, 10, 0, 0]);
    expect(s.total).toBe(40);
    expect(s.mean).toBe(10);
    expect(s.share).toEqual([0.75, 0.25, 0, 0]);
    expect(s.utilization).toEqual([3, 1, 0, 0]);
    expect(s.maxUtilization).toBe(3);
    expect(s.dead).toBe(2);
  });
  it("gives NaN utilization and no dead experts when there is no load", () => {
    const s = utilizationOf([0, 0]);
    expect(s.utilization.every(Number.isNaN)).toBe(true);
    expect(s.dead).toBe(0);
  });
});

describe("prepareLayerHeatmap", () => {
  const model = prepareLayerHeatmap(
    {
      runId: "r",
      step: 42,
      numExperts: 4,
      rows: [
        { layer: 3, load: [10, 10, 10, 10], dispatchedLoad: null, loadBasis: "no-drop", ranksReported: 8, ranksExpected: 8 },
        { layer: 2, load: [30, 10, 0, 0], dispatchedLoad: null, loadBasis: "no-drop", ranksReported: 8, ranksExpected: 8 },
        { layer: 5, load: [0, 0, 0, 0], dispatchedLoad: null, loadBasis: "no-drop", ranksReported: 0, ranksExpected: 8 },
      ],
    },
    P,
  );

  it("sorts rows by layer and labels them", () => {
    expect(model.rows.map((r) => r.label)).toEqual(["L2", "L3", "L5"]);
  });
  it("colours by utilization relative to the layer's own mean", () => {
    const [l2, l3] = model.rows;
    expect(l2.utilization).toEqual([3, 1, 0, 0]);
    expect(l2.colors).toEqual(["#ff0000", "#ffffff", "#000000", "#000000"]);
    expect(l3.colors).toEqual(["#ffffff", "#ffffff", "#ffffff", "#ffffff"]);
  });
  it("draws a layer no rank reported as empty and does not count it", () => {
    const l5 = model.rows[2];
    expect(l5.missing).toBe(true);
    expect(l5.colors).toEqual(["#808080", "#808080", "#808080", "#808080"]);
    expect(model.cellCount).toBe(8);
  });
  it("finds the hottest cell and counts dead experts", () => {
    expect(model.hottest).toEqual({ layer: 2, expert: 0, utilization: 3 });
    expect(model.maxUtilization).toBe(3);
    expect(model.deadCount).toBe(2);
    expect(model.step).toBe(42);
  });
  it("pads a short load vector to num_experts with zeros", () => {
    const m = prepareLayerHeatmap(
      { runId: "r", step: 1, numExperts: 3, rows: [{ layer: 1, load: [6, 3], dispatchedLoad: null, loadBasis: "no-drop", ranksReported: 1, ranksExpected: 1 }] },
      P,
    );
    expect(m.rows[0].load).toEqual([6, 3, 0]);
    expect(m.rows[0].utilization).toEqual([2, 1, 0]);
  });
});

describe("prepareExpertHeatmap", () => {
  const model = prepareExpertHeatmap(
    {
      runId: "r",
      layer: 4,
      numExperts: 2,
      bucketSize: 10,
      columns: [
        { step: 20, load: [5, 15] },
        { step: 0, load: [10, 10] },
        { step: 10, load: [0, 0] },
      ],
    },
    P,
  );
  it("orders columns by step and keeps the bucket size", () => {
    expect(model.columns.map((c) => c.step)).toEqual([0, 10, 20]);
    expect(model.firstStep).toBe(0);
    expect(model.lastStep).toBe(20);
    expect(model.bucketSize).toBe(10);
  });
  it("computes per-column utilization and colours", () => {
    expect(model.columns[2].utilization).toEqual([0.5, 1.5]);
    // u = 0.5 -> t = 0.5 / 0.9 toward cold (255 * 4/9 = 113 = 0x71); u = 1.5 -> t = 0.25 toward hot (0xbf).
    expect(model.columns[2].colors).toEqual(["#7171ff", "#ffbfbf"]);
    expect(model.columns[1].colors).toEqual(["#808080", "#808080"]);
  });
  it("counts only columns with load and tracks each expert's peak", () => {
    expect(model.cellCount).toBe(4);
    expect(model.peakUtilization).toEqual([1, 1.5]);
  });
});
