import { describe, expect, it } from "vitest";
import { small, withConfig } from "../testdata/configs";
import { recomputesMoe, validateSuggestion } from "./validateSuggestion";

describe("validateSuggestion", () => {
  const cluster = { worldSize: 8, gpusPerNode: 8 };
  const ep4 = withConfig(small, { expert_model_parallel_size: 4, disable_bias_linear: true });
  const cases = [
    { name: "a valid configuration", config: ep4, rules: [] },
    { name: "expert MLP not divisible by ETP", config: withConfig(ep4, { expert_tensor_parallel_size: 2, moe_ffn_hidden_size: 1001 }), rules: ["ffn-divisible-by-etp"] },
    { name: "ffn_hidden_size from extra", config: withConfig(ep4, { expert_tensor_parallel_size: 2, extra: { ffn_hidden_size: "999" } }), rules: ["ffn-divisible-by-etp"] },
    { name: "expert bias with softmax scores", config: withConfig(ep4, { moe_router_enable_expert_bias: true }), rules: ["expert-bias-requires-sigmoid"] },
    { name: "expert bias with sigmoid scores", config: withConfig(ep4, { moe_router_enable_expert_bias: true, extra: { moe_router_score_function: "sigmoid" } }), rules: [] },
    { name: "EP overlap without EP", config: withConfig(small, { extra: { overlap_moe_expert_parallel_comm: "true" } }), rules: ["ep-overlap-requires-ep"] },
    {
      name: "EP overlap with MoE recomputation",
      config: withConfig(ep4, { recompute_granularity: "selective", recompute_modules: ["moe"], extra: { overlap_moe_expert_parallel_comm: "true" } }),
      rules: ["ep-overlap-forbids-moe-recompute"],
    },
    { name: "validateRunConfig's rules too", config: withConfig(ep4, { num_experts: 6 }), rules: ["experts-divisible-by-ep"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(validateSuggestion(c.config, cluster).filter((v) => v.severity === "error").map((v) => v.rule)).toEqual(c.rules);
    });
  }
});

describe("recomputesMoe", () => {
  const cases = [
    { name: "selective with moe", patch: { recompute_granularity: "selective", recompute_modules: ["core_attn", "moe"] }, want: true },
    { name: "deprecated --moe-layer-recompute", patch: { moe_layer_recompute: true }, want: true },
    { name: "selective with the default modules", patch: { recompute_granularity: "selective" }, want: false },
    { name: "moe listed without selective granularity", patch: { recompute_modules: ["moe"] }, want: false },
  ];
  for (const c of cases) it(c.name, () => expect(recomputesMoe(withConfig(small, c.patch))).toBe(c.want));
});
