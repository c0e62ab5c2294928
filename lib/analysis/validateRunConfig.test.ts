import { describe, expect, it } from "vitest";
import { mixtral8x22b, mixtral8x7b, small, withConfig } from "./testdata/configs";
import type { RunConfig } from "./types";
import { validateRunConfig } from "./validateRunConfig";

describe("validateRunConfig", () => {
  it.each([
    { name: "Mixtral 8x7B: 64 GPUs TP1 EP8 PP4 VP8 MBS1 GBS256", config: mixtral8x7b, worldSize: 64 },
    { name: "Mixtral 8x22B: 128 GPUs TP4 EP2 PP8 VP7 MBS1 GBS256", config: mixtral8x22b, worldSize: 128 },
    // Megatron turns SP off when TP == 1 (the seed's launch script passes --sequence-parallel with TP 1)
    { name: "--sequence-parallel with TP 1 is harmless", config: withConfig(mixtral8x7b, { sequence_parallel: true }), worldSize: 64 },
  ])("seed reference mapping validates clean: $name", ({ config, worldSize }) => {
    expect(validateRunConfig(config, { worldSize, gpusPerNode: 8 })).toEqual([]);
  });

  const cases: Array<{ name: string; config: RunConfig; worldSize: number; gpusPerNode?: number; rule: string; severity?: string; message: string }> = [
    {
      name: "rule 1",
      // ETP 1 x EP 1 x PP 4 = 4 divides 60, so only the attention mesh is broken
      config: withConfig(small, { tensor_model_parallel_size: 2, expert_tensor_parallel_size: 1, pipeline_model_parallel_size: 4, sequence_parallel: true }),
      worldSize: 60,
      rule: "world-divisible-by-tp-pp-cp",
      message: "world size 60 is not divisible by TP*PP*CP = 8 (tensor_model_parallel_size 2 x pipeline_model_parallel_size 4 x context_parallel_size 1)",
    },
    {
      // TP1 PP4 CP1 = 4 divides 8, but ETP1 x EP8 x PP4 = 32 does not (the seed script on one node)
      name: "rule 2",
      config: mixtral8x7b,
      worldSize: 8,
      rule: "world-divisible-by-etp-ep-pp",
      message:
        "world size 8 is not divisible by ETP*EP*PP = 32 (expert_tensor_parallel_size 1 (defaults to tensor_model_parallel_size) x expert_model_parallel_size 8 x pipeline_model_parallel_size 4)",
    },
    {
      // world 24 = 3*8 keeps rules 1-2 satisfied; 8 % 3 != 0
      name: "rule 3",
      config: withConfig(small, { expert_model_parallel_size: 3 }),
      worldSize: 24,
      rule: "experts-divisible-by-ep",
      message: "num_experts 8 is not divisible by expert_model_parallel_size 3: each EP rank must host the same number of experts",
    },
    {
      name: "rule 4",
      config: withConfig(small, { tensor_model_parallel_size: 2, expert_tensor_parallel_size: 1 }),
      worldSize: 2,
      rule: "tp-requires-sequence-parallel",
      message: "tensor_model_parallel_size 2 > 1 with MoE requires --sequence-parallel (Megatron's MoE layer raises during training without it)",
    },
    {
      name: "rule 5 (ETP inherited from TP)",
      config: withConfig(small, { tensor_model_parallel_size: 2, sequence_parallel: true }),
      worldSize: 2,
      rule: "etp-requires-disable-bias-linear",
      message:
        "expert_tensor_parallel_size 2 (defaults to tensor_model_parallel_size) > 1 requires --disable-bias-linear: Megatron supports bias in MoE only with ETP == 1",
    },
    {
      // 8x7B: DP = 64/4 = 16; 100 % (1*16) = 4
      name: "rule 6",
      config: withConfig(mixtral8x7b, { global_batch_size: 100 }),
      worldSize: 64,
      rule: "global-batch-divisible-by-micro-batch-dp",
      message: "global_batch_size 100 is not divisible by micro_batch_size 1 x DP 16 = 16 (DP = world size 64 / TP*PP*CP 4)",
    },
    {
      name: "rule 7: pad without capacity factor",
      config: withConfig(small, { moe_pad_expert_input_to_capacity: true }),
      worldSize: 1,
      rule: "pad-requires-capacity-factor",
      message: "--moe-pad-expert-input-to-capacity requires --moe-expert-capacity-factor (moe_expert_capacity_factor is not set)",
    },
    {
      // Megatron turns a negative capacity factor into None
      name: "rule 7: pad with a negative (disabled) capacity factor",
      config: withConfig(small, { moe_pad_expert_input_to_capacity: true, moe_expert_capacity_factor: -1 }),
      worldSize: 1,
      rule: "pad-requires-capacity-factor",
      message: "--moe-pad-expert-input-to-capacity requires --moe-expert-capacity-factor (moe_expert_capacity_factor is -1)",
    },
    {
      name: "rule 7: capacity factor with sinkhorn",
      config: withConfig(small, { moe_expert_capacity_factor: 1, moe_router_load_balancing_type: "sinkhorn" }),
      worldSize: 1,
      rule: "capacity-factor-requires-aux-loss-type",
      message: "moe_expert_capacity_factor 1 works only with moe_router_load_balancing_type aux_loss, seq_aux_loss, global_aux_loss, none; got sinkhorn",
    },
    {
      // EP16 x ETP1 = 16 > 8 GPUs per node
      name: "rule 8: EP*ETP beyond the node",
      config: withConfig(small, { num_experts: 16, expert_model_parallel_size: 16 }),
      worldSize: 16,
      gpusPerNode: 8,
      rule: "ep-etp-within-nvlink-domain",
      severity: "warning",
      message:
        "EP*ETP = 16 (expert_model_parallel_size 16 x expert_tensor_parallel_size 1) exceeds 8 GPUs per node: expert all-to-all leaves the NVLink domain; prefer PP to scale across nodes",
    },
    {
      // EP4 x ETP4 = 16 > 8; TP 4 itself fits
      name: "rule 8: EP x ETP with ETP from TP",
      config: withConfig(mixtral8x22b, { expert_model_parallel_size: 4 }),
      worldSize: 128,
      gpusPerNode: 8,
      rule: "ep-etp-within-nvlink-domain",
      severity: "warning",
      message:
        "EP*ETP = 16 (expert_model_parallel_size 4 x expert_tensor_parallel_size 4) exceeds 8 GPUs per node: expert all-to-all leaves the NVLink domain; prefer PP to scale across nodes",
    },
    {
      name: "rule 8: TP beyond the node",
      config: withConfig(small, { tensor_model_parallel_size: 16, expert_tensor_parallel_size: 1, sequence_parallel: true }),
      worldSize: 16,
      gpusPerNode: 8,
      rule: "tp-within-nvlink-domain",
      severity: "warning",
      message: "tensor_model_parallel_size 16 exceeds 8 GPUs per node: TP communication leaves the NVLink domain; prefer PP to scale across nodes",
    },
    {
      name: "pipeline split",
      config: withConfig(small, { num_layers: 30, pipeline_model_parallel_size: 4 }),
      worldSize: 4,
      rule: "pipeline-split",
      message: "num_layers 30 is not divisible by pipeline_model_parallel_size 4",
    },
    {
      name: "explicit pipeline layout cannot be checked",
      config: withConfig(small, { pipeline_model_parallel_size: 2, extra: { pipeline_model_parallel_layout: "E|t*4|t*4,L" } }),
      worldSize: 2,
      rule: "pipeline-split-unchecked",
      severity: "warning",
      message: "pipeline_model_parallel_layout is not supported: layer-to-stage assignment needs the even or decoder_first/last split",
    },
    {
      name: "moe_layer_freq length",
      config: withConfig(small, { moe_layer_freq: "([0]+[1]*23)" }),
      worldSize: 1,
      rule: "moe-layer-freq",
      message: 'moe_layer_freq "([0]+[1]*23)" has 24 entries but num_layers is 8: the pattern needs one entry per layer',
    },
    {
      name: "top-k above expert count",
      config: withConfig(small, { moe_router_topk: 9 }),
      worldSize: 1,
      rule: "topk-within-experts",
      message: "moe_router_topk 9 exceeds num_experts 8",
    },
    {
      name: "non-positive sizes stop the arithmetic",
      config: withConfig(small, { expert_model_parallel_size: 0 }),
      worldSize: 8,
      rule: "positive-integer-sizes",
      message: "expert_model_parallel_size must be a positive integer, got 0",
    },
  ];
  it.each(cases)("$name -> $rule", ({ config, worldSize, gpusPerNode, rule, severity, message }) => {
    const violations = validateRunConfig(config, { worldSize, gpusPerNode });
    // Exactly the one rule under test: each case breaks one rule only.
    expect(violations).toEqual([{ rule, severity: severity ?? "error", message }]);
  });

  it("a MoE layout marked unknown (layers, experts, top-k all 0: an import without arguments) checks only the meshes", () => {
    const unknown = withConfig(small, { num_layers: 0, num_experts: 0, moe_router_topk: 0 });
    expect(validateRunConfig(withConfig(unknown, { pipeline_model_parallel_size: 1, expert_model_parallel_size: 1, tensor_model_parallel_size: 1 }), { worldSize: 1 })).toEqual([]);
    expect(validateRunConfig(withConfig(unknown, { tensor_model_parallel_size: 2, sequence_parallel: true }), { worldSize: 3 }).map((v) => v.rule)).toContain(
      "world-divisible-by-tp-pp-cp",
    );
    // Only all three together mean "unknown": a single 0 is still an error.
    expect(validateRunConfig(withConfig(small, { num_experts: 0 }), { worldSize: 8 }).map((v) => v.rule)).toEqual(["positive-integer-sizes"]);
  });

  it("reports every broken rule at once", () => {
    // TP 2 without SP or disable-bias on 3 GPUs: rules 1 (3 % 2), 2 (3 % 2), 4 and 5
    const rules = validateRunConfig(withConfig(small, { tensor_model_parallel_size: 2 }), { worldSize: 3 }).map((v) => v.rule);
    expect(rules).toEqual([
      "world-divisible-by-tp-pp-cp",
      "world-divisible-by-etp-ep-pp",
      "tp-requires-sequence-parallel",
      "etp-requires-disable-bias-linear",
    ]);
  });
});
