import { describe, expect, it } from "vitest";
import type { CompareDto, CompareRunDto } from "../dto";
import { commonLayers, prepareCompareChart } from "./prepareCompareChart";
import { prepareConfigDiff } from "./prepareConfigDiff";

const run = (id: string, moeLayers: number[], series: CompareRunDto["series"]): CompareRunDto => ({
  id, runKey: id, name: `run ${id}`, status: "finished", simulated: true, lastStep: 10, moeLayers, auxLoss: "load_balancing_loss", bucketSize: 1, series,
});

const dto: CompareDto = {
  alignBy: "tokens",
  layer: null,
  missing: [],
  runs: [
    run("a", [1, 2], [
      { layer: 1, metric: "maxVio", points: [{ x: 100, step: 1, value: 0.5, min: 0.4, max: 0.9 }, { x: 200, step: 2, value: 0.3, min: 0.3, max: 0.3 }] },
      { layer: 2, metric: "maxVio", points: [{ x: 100, step: 1, value: 9, min: 9, max: 9 }] },
    ]),
    run("b", [2], [
      { layer: 2, metric: "maxVio", points: [{ x: 200, step: 1, value: 1.5, min: 1.2, max: 1.6 }, { x: 400, step: 2, value: Number.NaN, min: 0, max: 0 }] },
      { layer: 2, metric: "auxLoss", points: [{ x: 200, step: 1, value: 1.1, min: 1.1, max: 1.1 }] },
    ]),
  ],
  config: [
    { name: "num_experts", group: "MoE", values: ["8", "16"], differs: true },
    { name: "moe_router_topk", group: "MoE", values: ["2", "2"], differs: false },
    { name: "expert_model_parallel_size", group: "Parallelism", values: ["4", null], differs: true },
  ],
};

describe("prepareCompareChart", () => {
  it("overlays one layer's metric of every run, merged by x, with each run's bucket band", () => {
    const m = prepareCompareChart(dto, "maxVio", 2, ["c0", "c1"]);
    expect(m.lines.map((l) => [l.key, l.name, l.color, l.points])).toEqual([
      ["r0", "run a", "c0", 1],
      ["r1", "run b", "c1", 2],
    ]);
    expect(m.rows).toEqual([
      { x: 100, r0: 9, r0_band: [9, 9] },
      { x: 200, r1: 1.5, r1_band: [1.2, 1.6] },
    ]);
    expect(m.reference).toBe(0);
  });
  it("uses each run's first MoE layer when no layer is chosen", () => {
    const m = prepareCompareChart(dto, "maxVio", null, ["c0", "c1"]);
    expect(m.rows[0]).toEqual({ x: 100, r0: 0.5, r0_band: [0.4, 0.9] });
    expect(m.rows.find((r) => r.x === 200)).toEqual({ x: 200, r0: 0.3, r0_band: [0.3, 0.3], r1: 1.5, r1_band: [1.2, 1.6] });
    expect(prepareCompareChart(dto, "auxLoss", 2).reference).toBe(1);
  });
  it("finds the MoE layers all runs have", () => {
    expect(commonLayers(dto)).toEqual([2]);
    expect(commonLayers({ runs: [] })).toEqual([]);
  });
});

describe("prepareConfigDiff", () => {
  it("puts differences first, keeps the order otherwise, and shows unset as –", () => {
    const m = prepareConfigDiff(dto.config);
    expect(m.rows.map((r) => [r.name, r.values, r.differs])).toEqual([
      ["num_experts", ["8", "16"], true],
      ["expert_model_parallel_size", ["4", "–"], true],
      ["moe_router_topk", ["2", "2"], false],
    ]);
    expect([m.differing, m.total]).toEqual([2, 3]);
  });
  it("can keep only the differences", () => {
    expect(prepareConfigDiff(dto.config, { onlyDiffs: true }).rows.map((r) => r.name)).toEqual(["num_experts", "expert_model_parallel_size"]);
  });
});

describe("issue 21 cosmetics", () => {
  it("compare x ticks are round steps, not the data's first step plus multiples", () => {
    const run = (id: string) => ({
      id, runKey: id, name: id, status: "finished" as const, simulated: true, lastStep: 451, moeLayers: [1], numExperts: 8, topk: 2, config: {},
      series: [{ metric: "maxVio" as const, layer: 1, points: [1, 151, 301, 451].map((x) => ({ x, value: 1, min: 1, max: 1 })) }],
    });
    const m = prepareCompareChart({ runs: [run("a")], alignBy: "step", config: [] } as unknown as Parameters<typeof prepareCompareChart>[0], "maxVio", 1, ["c0"]);
    expect(m.xTicks).toEqual([100, 200, 300, 400]);
  });
  it("byte counts in the configuration diff read as GiB", () => {
    const d = prepareConfigDiff([{ name: "gpu_memory_bytes", group: "run", values: ["85899345920", null], differs: true }]);
    expect(d.rows[0].values).toEqual(["80.0 GiB (85899345920)", "–"]);
  });
});
