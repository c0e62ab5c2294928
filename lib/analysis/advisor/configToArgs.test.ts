import { describe, expect, it } from "vitest";
import { parseMegatronArgs } from "../parseMegatronArgs";
import { mixtral8x22b, mixtral8x7b, withConfig } from "../testdata/configs";
import { configToArgs, flagOf } from "./configToArgs";

describe("configToArgs", () => {
  it("spells Megatron's flags", () => {
    expect(configToArgs(withConfig(mixtral8x7b, { num_layers_per_virtual_pipeline_stage: undefined, bf16: false }))).toEqual([
      "--num-layers", "32", "--hidden-size", "4096", "--seq-length", "4096", "--micro-batch-size", "1", "--global-batch-size", "256",
      "--num-experts", "8", "--moe-router-topk", "2", "--moe-router-load-balancing-type", "aux_loss", "--moe-aux-loss-coeff", "0.01",
      "--moe-token-dispatcher-type", "alltoall", "--moe-grouped-gemm", "--tensor-model-parallel-size", "1",
      "--pipeline-model-parallel-size", "4", "--context-parallel-size", "1", "--expert-model-parallel-size", "8",
      "--disable-bias-linear",
    ]);
  });

  const roundTrips = [
    { name: "Mixtral 8x7B", config: mixtral8x7b },
    { name: "Mixtral 8x22B", config: mixtral8x22b },
    {
      name: "lists, fp8 and extra arguments",
      config: withConfig(mixtral8x7b, {
        recompute_granularity: "selective",
        recompute_modules: ["core_attn", "moe"],
        fp8: "hybrid",
        moe_layer_freq: "([0]+[1]*31)",
        extra: { swiglu: "true", ffn_hidden_size: "14336", moe_router_score_function: "sigmoid" },
      }),
    },
  ];
  for (const c of roundTrips) {
    it(`parses back to the same configuration: ${c.name}`, () => {
      expect(parseMegatronArgs(configToArgs(c.config)).config).toEqual(c.config);
    });
  }

  it("names the two flags that differ from their field", () => {
    expect(flagOf("fp8")).toBe("--fp8-format");
    expect(flagOf("disable_bias_linear")).toBe("--disable-bias-linear");
    expect(flagOf("expert_tensor_parallel_size")).toBe("--expert-tensor-parallel-size");
  });
});
