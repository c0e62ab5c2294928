import { describe, expect, it } from "vitest";
import { checkMegatronConfig } from "./checkMegatronConfig";
import { seedLaunchScript } from "./testdata/seedLaunchScript";

const mixtral = [
  "--num-layers", "32", "--hidden-size", "4096", "--num-experts", "8", "--moe-router-topk", "2",
  "--tensor-model-parallel-size", "1", "--pipeline-model-parallel-size", "4", "--num-layers-per-virtual-pipeline-stage", "1",
  "--expert-model-parallel-size", "8", "--micro-batch-size", "1", "--global-batch-size", "256", "--moe-layer-freq", "([0]+[1]*31)",
];

describe("checkMegatronConfig", () => {
  it("derives sizes, MoE layers and stages for the seed's Mixtral 8x7B mapping on 64 GPUs", () => {
    const c = checkMegatronConfig(mixtral, { worldSize: 64, gpusPerNode: 8 });
    expect(c.ok).toBe(true);
    expect(c.violations.filter((v) => v.severity === "error")).toEqual([]);
    expect(c.sizes).toMatchObject({ tp: 1, pp: 4, dp: 16, ep: 8, etp: 1, edp: 2 });
    expect(c.layers[0]).toEqual({ layer: 1, moe: false, stage: 0 });
    // VPP 8 chunks of 1 layer: layer 2 is chunk 0 of stage 1.
    expect(c.layers[1]).toEqual({ layer: 2, moe: true, stage: 1 });
    expect(c.layers.filter((l) => l.moe)).toHaveLength(31);
  });

  it("names the broken rule for a layout that does not fit the world", () => {
    const c = checkMegatronConfig(mixtral, { worldSize: 62 }); // 62 % (TP*PP*CP = 4) = 2
    expect(c.ok).toBe(false);
    expect(c.violations.map((v) => v.rule)).toEqual(expect.arrayContaining(["world-divisible-by-tp-pp-cp", "world-divisible-by-etp-ep-pp"]));
    expect(c.sizes).toBeNull();
  });

  it("asks for the world size when the command line does not give it", () => {
    const c = checkMegatronConfig(mixtral);
    expect(c.ok).toBe(false);
    expect(c.violations[0].rule).toBe("world-size-unknown");
  });

  it("reads the seed's launch script", () => {
    const c = checkMegatronConfig(seedLaunchScript, { worldSize: 64 });
    expect(c.config.num_experts).toBe(8);
    expect(c.worldSize).toBe(64);
    expect(c.layers).toHaveLength(c.config.num_layers);
  });
});
