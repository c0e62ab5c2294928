import { describe, expect, it } from "vitest";
import { small, withConfig } from "../testdata/configs";
import { mitigationsInForce, revertLayout } from "./revertSuggestions";

describe("revertLayout", () => {
  const cluster = { worldSize: 8, gpusPerNode: 8 };
  const base = withConfig(small, { disable_bias_linear: true });
  const cases = [
    { name: "EP 4 x ETP 2 goes back to EP 8", config: withConfig(base, { expert_model_parallel_size: 4, expert_tensor_parallel_size: 2 }), want: { ep: 8, etp: 1 } },
    // group 8 with 4 experts: EP 8 does not divide them, EP 4 x ETP 2 is the most EP available
    { name: "EP limited by the experts", config: withConfig(base, { num_experts: 4, expert_model_parallel_size: 2, expert_tensor_parallel_size: 4 }), want: { ep: 4, etp: 2 } },
    { name: "ETP defaulting to TP is not a mitigation", config: withConfig(base, { tensor_model_parallel_size: 2, sequence_parallel: true, expert_model_parallel_size: 2 }), want: null },
    { name: "ETP 1", config: withConfig(base, { expert_model_parallel_size: 8, expert_tensor_parallel_size: 1 }), want: null },
    { name: "no larger EP divides the experts", config: withConfig(base, { num_experts: 2, expert_model_parallel_size: 2, expert_tensor_parallel_size: 4 }), want: null },
  ];
  for (const c of cases) it(c.name, () => expect(revertLayout(c.config, cluster)).toEqual(c.want));
});

describe("mitigationsInForce", () => {
  it("lists a capacity factor and MoE recomputation", () => {
    const config = withConfig(small, { moe_expert_capacity_factor: 1.0, moe_layer_recompute: true });
    expect(mitigationsInForce(config, { worldSize: 8 })).toEqual({ layout: null, capacity: true, recompute: true });
  });
  it("treats a negative capacity factor as none, as Megatron does", () => {
    expect(mitigationsInForce(withConfig(small, { moe_expert_capacity_factor: -1 }), { worldSize: 8 }).capacity).toBe(false);
  });
});
