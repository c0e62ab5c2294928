import { describe, expect, it } from "vitest";
import { stageOfLayer } from "./stageOfLayer";
import { mixtral8x22b, mixtral8x7b, small, withConfig } from "./testdata/configs";
import type { RunConfig } from "./types";

const pp = (n: number, extra?: Record<string, string>, patch: Partial<RunConfig> = {}): RunConfig =>
  withConfig(small, { pipeline_model_parallel_size: n, extra, ...patch });

describe("stageOfLayer", () => {
  const cases: Array<{ name: string; config: RunConfig; layer: number; want: { pp: number; vpp: number } }> = [
    // 32 layers / PP 4 = 8 per stage: layers 1-8 on pp0, 9-16 on pp1
    { name: "no VPP: last layer of stage 0", config: pp(4, undefined, { num_layers: 32 }), layer: 8, want: { pp: 0, vpp: 0 } },
    { name: "no VPP: first layer of stage 1", config: pp(4, undefined, { num_layers: 32 }), layer: 9, want: { pp: 1, vpp: 0 } },
    // Megatron's own example (transformer_block.py): 8 layers, 2 stages, 4 chunks: stage 0 = [0][2][4][6], stage 1 = [1][3][5][7] (0-based)
    { name: "8 layers PP2 VPP4: layer 1 (0-based 0)", config: pp(2, undefined, { num_layers_per_virtual_pipeline_stage: 1 }), layer: 1, want: { pp: 0, vpp: 0 } },
    { name: "8 layers PP2 VPP4: layer 3 (0-based 2)", config: pp(2, undefined, { num_layers_per_virtual_pipeline_stage: 1 }), layer: 3, want: { pp: 0, vpp: 1 } },
    { name: "8 layers PP2 VPP4: layer 8 (0-based 7)", config: pp(2, undefined, { num_layers_per_virtual_pipeline_stage: 1 }), layer: 8, want: { pp: 1, vpp: 3 } },
    // 8 layers, 2 stages, 2 chunks: stage 0 = [0,1][4,5], stage 1 = [2,3][6,7]
    { name: "8 layers PP2 VPP2: layer 5 (0-based 4)", config: pp(2, undefined, { num_layers_per_virtual_pipeline_stage: 2 }), layer: 5, want: { pp: 0, vpp: 1 } },
    { name: "8 layers PP2 VPP2: layer 3 (0-based 2)", config: pp(2, undefined, { num_layers_per_virtual_pipeline_stage: 2 }), layer: 3, want: { pp: 1, vpp: 0 } },
    // 8x7B: chunk c of stage p holds 0-based layer c*4+p; layer 14 -> 13 = 3*4+1
    { name: "Mixtral 8x7B layer 14", config: mixtral8x7b, layer: 14, want: { pp: 1, vpp: 3 } },
    // 31 = 7*4+3
    { name: "Mixtral 8x7B layer 32", config: mixtral8x7b, layer: 32, want: { pp: 3, vpp: 7 } },
    // 8x22B: 0-based 19 = 2*8+3
    { name: "Mixtral 8x22B layer 20", config: mixtral8x22b, layer: 20, want: { pp: 3, vpp: 2 } },
    // num_virtual_stages_per_pipeline_rank 2 is the same split as 2 layers per virtual stage above
    { name: "num_virtual_stages_per_pipeline_rank", config: pp(2, { num_virtual_stages_per_pipeline_rank: "2" }), layer: 7, want: { pp: 1, vpp: 1 } },
    // uneven: 30 layers, PP4, first 6, last 6 -> middle 18/2 = 9: pp0 1-6, pp1 7-15, pp2 16-24, pp3 25-30
    { name: "uneven: layer 6 on first stage", config: pp(4, { decoder_first_pipeline_num_layers: "6", decoder_last_pipeline_num_layers: "6" }, { num_layers: 30 }), layer: 6, want: { pp: 0, vpp: 0 } },
    { name: "uneven: layer 16 on stage 2", config: pp(4, { decoder_first_pipeline_num_layers: "6", decoder_last_pipeline_num_layers: "6" }, { num_layers: 30 }), layer: 16, want: { pp: 2, vpp: 0 } },
    { name: "uneven: layer 25 on last stage", config: pp(4, { decoder_first_pipeline_num_layers: "6", decoder_last_pipeline_num_layers: "6" }, { num_layers: 30 }), layer: 25, want: { pp: 3, vpp: 0 } },
    // uneven + VPP2: 32 layers, first 6, last 6, middle 10 each. Per chunk: first 3, middle 10 (5 per stage), last 3, total 16.
    // c0: pp0 1-3, pp1 4-8, pp2 9-13, pp3 14-16; c1: pp0 17-19, pp1 20-24, pp2 25-29, pp3 30-32
    { name: "uneven VPP2: layer 14", config: pp(4, { decoder_first_pipeline_num_layers: "6", decoder_last_pipeline_num_layers: "6", num_virtual_stages_per_pipeline_rank: "2" }, { num_layers: 32 }), layer: 14, want: { pp: 3, vpp: 0 } },
    { name: "uneven VPP2: layer 20", config: pp(4, { decoder_first_pipeline_num_layers: "6", decoder_last_pipeline_num_layers: "6", num_virtual_stages_per_pipeline_rank: "2" }, { num_layers: 32 }), layer: 20, want: { pp: 1, vpp: 1 } },
    // embedding + loss in the split: 6 layers + 2 = 8, 4 per stage; pp0 holds 3 (1-3), pp1 holds 3 (4-6)
    { name: "embedding and loss in split", config: pp(2, { account_for_embedding_in_pipeline_split: "true", account_for_loss_in_pipeline_split: "true" }, { num_layers: 6 }), layer: 4, want: { pp: 1, vpp: 0 } },
    { name: "PP1: everything on stage 0", config: small, layer: 8, want: { pp: 0, vpp: 0 } },
  ];
  it.each(cases)("$name", ({ config, layer, want }) => {
    expect(stageOfLayer(config, layer)).toEqual(want);
  });

  it("rejects layer 0 (layer numbers are 1-based)", () => {
    expect(() => stageOfLayer(small, 0)).toThrow(/layer 0 is outside 1..8/);
  });
});
