import { describe, expect, it } from "vitest";
import { groupEvents, prepareLossChart } from "./prepareLossChart";
import { configuredAuxLoss, pickAuxLoss } from "./pickAuxLoss";
import type { LossSeriesDto, RunEventDto } from "../dto";

const series: LossSeriesDto = {
  runId: "r",
  fromStep: null,
  toStep: null,
  bucketSize: 2,
  series: [
    {
      layer: 3,
      loss: "load_balancing_loss",
      points: [
        { step: 0, value: 1.2, min: 1.1, max: 1.4 },
        { step: 2, value: 1.05, min: 1.0, max: 2.5 },
      ],
    },
    {
      layer: 1,
      loss: "load_balancing_loss",
      points: [
        { step: 0, value: 1.1, min: 1.1, max: 1.1 },
        { step: 4, value: Number.NaN, min: Number.NaN, max: Number.NaN },
      ],
    },
    { layer: 1, loss: "z_loss", points: [{ step: 0, value: 9.5, min: 9, max: 10 }] },
  ],
};

function ev(kind: RunEventDto["kind"], rank: number, step: number): RunEventDto {
  return { id: `${kind}${rank}${step}`, kind, rank, step, layer: null, phase: null, message: "", memory: null, createdAt: "" };
}

describe("prepareLossChart", () => {
  const model = prepareLossChart(series, [ev("oom", 7, 3)], {
    loss: "load_balancing_loss",
    highlightLayer: 3,
    colors: ["c1", "c2", "c3"],
  });

  it("keeps only the chosen loss, one line per layer in layer order", () => {
    expect(model.lines.map((l) => [l.key, l.color, l.highlighted])).toEqual([
      ["l1", "c1", false],
      ["l3", "c2", true],
    ]);
  });
  it("aligns layers on one step axis and skips non-finite values", () => {
    expect(model.steps).toEqual([0, 2]);
    expect(model.lines.map((l) => l.values)).toEqual([
      [1.1, null],
      [1.2, 1.05],
    ]);
    expect(model.envelope).toEqual({ lo: [1.1, 1.0], hi: [1.4, 2.5] });
    expect(model.band).toEqual({ lo: [1.1, 1.0], hi: [1.4, 2.5] });
    expect(model.pointCount).toBe(3);
  });
  it("keeps the spike inside a bucket in the y domain and includes the 1.0 reference", () => {
    expect(model.reference).toEqual({ y: 1, label: "1.0 = perfectly balanced" });
    const [lo, hi] = model.yDomain!;
    expect(lo).toBeLessThan(1.0);
    expect(hi).toBeGreaterThan(2.5);
  });
  it("adds event markers", () => {
    expect(model.markers).toEqual([{ step: 3, kind: "oom", label: "OOM r7", color: "var(--marker-oom)", ranks: [7] }]);
  });
  it("has no reference line and no band for z_loss without a valid highlight", () => {
    const z = prepareLossChart(series, [], { loss: "z_loss", highlightLayer: 99 });
    expect(z.reference).toBeNull();
    expect(z.band).toBeNull();
    expect(z.steps).toEqual([0]);
    expect(z.lines.map((l) => l.values)).toEqual([[9.5]]);
    expect(z.envelope).toEqual({ lo: [9], hi: [10] });
    // Colours follow the layer's position among all MoE layers, so they match across charts.
    expect(z.lines[0].color).toBe("var(--chart-1)");
  });
  it("is empty without points", () => {
    const empty = prepareLossChart({ ...series, series: [] }, [], { loss: "z_loss" });
    expect(empty.steps).toEqual([]);
    expect(empty.lines).toEqual([]);
    expect(empty.yDomain).toBeNull();
    expect(empty.pointCount).toBe(0);
  });
});

describe("groupEvents", () => {
  it("groups ranks per (kind, step) and labels them", () => {
    const markers = groupEvents([ev("oom", 5, 10), ev("oom", 4, 10), ev("oom", 5, 10), ev("crash", 1, 8), ev("finished", 0, 20)]);
    expect(markers.map((m) => [m.step, m.kind, m.label, m.ranks])).toEqual([
      [8, "crash", "crash r1", [1]],
      [10, "oom", "OOM ×2", [4, 5]],
      [20, "finished", "finished", [0]],
    ]);
  });
});

describe("pickAuxLoss", () => {
  it.each([
    { name: "default type is aux_loss", type: undefined, available: ["load_balancing_loss", "z_loss"], want: "load_balancing_loss" },
    { name: "seq_aux_loss", type: "seq_aux_loss", available: ["seq_load_balancing_loss"], want: "seq_load_balancing_loss" },
    { name: "falls back to what has data", type: "aux_loss", available: ["global_load_balancing_loss"], want: "global_load_balancing_loss" },
    { name: "sinkhorn with nothing logged", type: "sinkhorn", available: [], want: "load_balancing_loss" },
  ] as const)("$name", ({ type, available, want }) => {
    expect(pickAuxLoss(type, available)).toBe(want);
  });
});

describe("configuredAuxLoss", () => {
  it.each([
    { name: "Megatron's default", type: undefined, want: "load_balancing_loss" },
    { name: "seq_aux_loss", type: "seq_aux_loss", want: "seq_load_balancing_loss" },
    { name: "global_aux_loss", type: "global_aux_loss", want: "global_load_balancing_loss" },
    { name: "a type that logs none", type: "sinkhorn", want: null },
  ] as const)("$name", ({ type, want }) => {
    expect(configuredAuxLoss(type)).toBe(want);
  });
});
