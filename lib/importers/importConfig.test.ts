import { describe, expect, it } from "vitest";
import { argsBlockToArgv, resolveImportConfig } from "./importConfig";

describe("argsBlockToArgv", () => {
  it("turns Megatron's printed arguments into flags", () => {
    expect(argsBlockToArgv({ num_experts: "8", sequence_parallel: "True", bf16: "False", fp8: "None", recompute_modules: "['moe', 'mla_up_proj']" })).toEqual([
      "--num-experts", "8", "--sequence-parallel", "--recompute-modules", "moe", "mla_up_proj",
    ]);
  });
});

describe("resolveImportConfig", () => {
  const block = { num_layers: "16", num_experts: "64", moe_router_topk: "1", expert_model_parallel_size: "4", world_size: "8", micro_batch_size: "1", global_batch_size: "64" };
  it("reads the printed arguments, including the world size", () => {
    const r = resolveImportConfig({ argsBlock: block }, {});
    expect(r.config).toMatchObject({ num_layers: 16, num_experts: 64, moe_router_topk: 1, expert_model_parallel_size: 4 });
    expect(r.worldSize).toBe(8);
    expect(r.commandLine).toContain("--num-experts");
  });
  it("lets overrides win and names what is missing", () => {
    expect(resolveImportConfig({ argsBlock: block }, { experts: 32, worldSize: 16 }).config.num_experts).toBe(32);
    expect(() => resolveImportConfig({}, { experts: 8 })).toThrow(/does not say num_layers, moe_router_topk/);
    // Nothing says anything about the layout (a pasted excerpt): unknown, not an error.
    const unknown = resolveImportConfig({ argsBlock: null }, {});
    expect(unknown).toMatchObject({ layoutKnown: false, worldSize: 1, config: { num_layers: 0, num_experts: 0, moe_router_topk: 0 } });
    expect(resolveImportConfig({}, { worldSize: 16 }).worldSize).toBe(16);
  });
  it("falls back to the smallest world the layout fits", () => {
    const r = resolveImportConfig({}, { experts: 8, layers: 4, topk: 2 });
    expect(r.worldSize).toBe(1);
    const ep = resolveImportConfig({ launchScript: "--num-layers 4 --num-experts 8 --moe-router-topk 2 --expert-model-parallel-size 4 --pipeline-model-parallel-size 2" }, {});
    expect(ep.worldSize).toBe(8);
  });
});
