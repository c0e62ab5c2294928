import { describe, expect, it } from "vitest";
import { deriveParallelSizes } from "./deriveParallelSizes";
import { mixtral8x22b, mixtral8x7b, small, withConfig } from "./testdata/configs";
import type { RunConfig } from "./types";

describe("deriveParallelSizes", () => {
  const cases: Array<{ name: string; config: RunConfig; world: number; want: Record<string, unknown> }> = [
    {
      // DP = 64/(1*4*1) = 16; ETP = TP = 1; EDP = 64/(1*8*4) = 2; VPP = (32/4)/1 = 8
      name: "Mixtral 8x7B on 64 GPUs",
      config: mixtral8x7b,
      world: 64,
      want: { tp: 1, pp: 4, cp: 1, dp: 16, ep: 8, etp: 1, edp: 2, vpp: 8, layersPerStage: 8, layersPerVirtualChunk: 1 },
    },
    {
      // DP = 128/(4*8*1) = 4; ETP = TP = 4; EDP = 128/(4*2*8) = 2; VPP = (56/8)/1 = 7
      name: "Mixtral 8x22B on 128 GPUs",
      config: mixtral8x22b,
      world: 128,
      want: { tp: 4, pp: 8, cp: 1, dp: 4, ep: 2, etp: 4, edp: 2, vpp: 7, layersPerStage: 7, layersPerVirtualChunk: 1 },
    },
    {
      // folding: TP2 CP2 for attention, ETP1 EP4 for experts. DP = 16/(2*1*2) = 4; EDP = 16/(1*4*1) = 4
      name: "explicit ETP 1 under TP 2 with CP 2",
      config: withConfig(small, { tensor_model_parallel_size: 2, context_parallel_size: 2, expert_model_parallel_size: 4, expert_tensor_parallel_size: 1 }),
      world: 16,
      want: { tp: 2, cp: 2, dp: 4, ep: 4, etp: 1, edp: 4, vpp: 1, layersPerStage: 8 },
    },
  ];
  it.each(cases)("$name", ({ config, world, want }) => {
    const got = deriveParallelSizes(config, world);
    expect(got).toMatchObject(want);
    if (!("layersPerVirtualChunk" in want)) expect(got.layersPerVirtualChunk).toBeUndefined();
  });

  const bad: Array<{ name: string; config: RunConfig; world: number; message: string }> = [
    {
      name: "rule 1: world not divisible by TP*PP*CP",
      config: withConfig(small, { tensor_model_parallel_size: 2, pipeline_model_parallel_size: 4 }),
      world: 60,
      message:
        "world size 60 is not divisible by TP*PP*CP = 8 (tensor_model_parallel_size 2 x pipeline_model_parallel_size 4 x context_parallel_size 1)",
    },
    {
      // the seed's launch script on one node: 8 GPUs, EP8 x PP4 = 32
      name: "rule 2: world not divisible by ETP*EP*PP",
      config: withConfig(mixtral8x7b, {}),
      world: 8,
      message:
        "world size 8 is not divisible by ETP*EP*PP = 32 (expert_tensor_parallel_size 1 x expert_model_parallel_size 8 x pipeline_model_parallel_size 4)",
    },
  ];
  it.each(bad)("rejects: $name", ({ config, world, message }) => {
    expect(() => deriveParallelSizes(config, world)).toThrow(message);
  });
});
