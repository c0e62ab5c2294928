import { describe, expect, it } from "vitest";
import { InvalidInput } from "./errors";
import { pipelineLayout } from "./pipelineLayout";
import { small, withConfig } from "./testdata/configs";
import type { RunConfig } from "./types";

const pp = (n: number, extra?: Record<string, string>, patch: Partial<RunConfig> = {}): RunConfig =>
  withConfig(small, { pipeline_model_parallel_size: n, extra, ...patch });

describe("pipelineLayout", () => {
  it("uneven split stage counts", () => {
    // 7 layers + embedding = 8 split over PP2: pp0 gets 4-1 = 3 layers, pp1 gets 4
    const layout = pipelineLayout(pp(2, { account_for_embedding_in_pipeline_split: "true" }, { num_layers: 7 }));
    expect(layout.stageLayerCounts).toEqual([3, 4]);
    expect(layout.chunks).toEqual([
      { pp: 0, vpp: 0, firstLayer: 1, numLayers: 3 },
      { pp: 1, vpp: 0, firstLayer: 4, numLayers: 4 },
    ]);
  });

  const bad: Array<{ name: string; config: RunConfig; message: RegExp; field: string }> = [
    { name: "layers not divisible by PP", config: pp(4, undefined, { num_layers: 30 }), message: /^num_layers 30 is not divisible by pipeline_model_parallel_size 4$/, field: "num_layers" },
    {
      name: "stage not divisible by layers per virtual stage",
      config: pp(4, undefined, { num_layers: 32, num_layers_per_virtual_pipeline_stage: 3 }),
      message: /layers per pipeline stage 8 \(num_layers 32 \/ pipeline_model_parallel_size 4\) is not divisible by num_layers_per_virtual_pipeline_stage 3/,
      field: "num_layers_per_virtual_pipeline_stage",
    },
    // PP1 with 2 layers per virtual stage: 8/2 = 4 virtual stages
    { name: "VPP without PP", config: withConfig(small, { num_layers_per_virtual_pipeline_stage: 2 }), message: /virtual pipeline \(4 virtual stages\) needs pipeline_model_parallel_size > 1/, field: "pipeline_model_parallel_size" },
    { name: "both VPP options", config: pp(2, { num_virtual_stages_per_pipeline_rank: "2" }, { num_layers_per_virtual_pipeline_stage: 2 }), message: /set only one of/, field: "num_layers_per_virtual_pipeline_stage" },
    { name: "uneven with layers-per-virtual-stage", config: pp(2, { decoder_first_pipeline_num_layers: "2" }, { num_layers_per_virtual_pipeline_stage: 1 }), message: /needs num_virtual_stages_per_pipeline_rank/, field: "num_layers_per_virtual_pipeline_stage" },
    // 8 layers, PP4, first 3: 5 left over 3 stages
    { name: "uneven middle not divisible", config: pp(4, { decoder_first_pipeline_num_layers: "3" }), message: /the 5 remaining layers must divide over the 3 middle stages/, field: "num_layers" },
    { name: "explicit layout unsupported", config: pp(2, { pipeline_model_parallel_layout: "E|t*4|t*4,L" }), message: /pipeline_model_parallel_layout is not supported/, field: "pipeline_model_parallel_layout" },
  ];
  it.each(bad)("rejects: $name", ({ config, message, field }) => {
    let caught: unknown;
    try {
      pipelineLayout(config);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidInput);
    expect((caught as InvalidInput).message).toMatch(message);
    expect((caught as InvalidInput).field).toBe(field);
  });
});
