import { describe, expect, it } from "vitest";
import { checkBatchHeader, checkClientInstance, checkEventLimits, checkOomLimits, checkRankInfoLimits, checkRunInfoLimits } from "./checkInputLimits";
import { InvalidInput } from "../analysis/errors";
import { LIMITS, limit } from "./limits";
import type { OomEvent, RunInfo } from "../analysis/types";

const run = (over: Partial<RunInfo> = {}, config: Partial<RunInfo["config"]> = {}): RunInfo => ({
  runKey: "r1",
  name: "a run",
  config: {
    num_layers: 4,
    num_experts: 8,
    moe_router_topk: 2,
    tensor_model_parallel_size: 1,
    pipeline_model_parallel_size: 1,
    context_parallel_size: 1,
    expert_model_parallel_size: 2,
    ...config,
  },
  worldSize: 8,
  gpusPerNode: 8,
  gpuMemoryBytes: 80 * 2 ** 30,
  framework: "megatron-core",
  frameworkVersion: "0.12.0",
  simulated: false,
  commandLine: ["pretrain_gpt.py", "--num-experts", "8"],
  ...over,
});

function fieldOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInput);
    return (err as InvalidInput).field;
  }
  return undefined;
}

describe("checkRunInfoLimits", () => {
  it("accepts an ordinary run", () => {
    expect(fieldOf(() => checkRunInfoLimits(run()))).toBeUndefined();
  });
  const cases: Array<[string, RunInfo, string, RegExp]> = [
    ["a long run key", run({ runKey: "k".repeat(201) }), "run_key", /201 characters; the limit is 200 \(maxRunKey\)/],
    ["a long name", run({ name: "<b>".repeat(100) }), "name", /maxName/],
    ["too many experts", run({}, { num_experts: 100_000 }), "config.num_experts", /100000; the limit is 4096 experts per MoE layer/],
    ["too many layers", run({}, { num_layers: 5_000 }), "config.num_layers", /maxLayers/],
    ["a huge world", run({ worldSize: 2 ** 31 }), "world_size", /maxWorldSize/],
    ["a huge parallel size", run({}, { expert_model_parallel_size: 1_000_000 }), "config.expert_model_parallel_size", /maxParallelSize/],
    ["a long config string", run({}, { moe_layer_freq: "1".repeat(2_000) }), "config.moe_layer_freq", /maxConfigString/],
    ["too many extra entries", run({}, { extra: Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, "v"])) }), "config.extra", /600 entries/],
    ["a config too large as JSON", run({}, { extra: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, "v".repeat(1_000)])) }), "config", /maxConfigJsonBytes/],
    ["too many command-line arguments", run({ commandLine: Array.from({ length: 5_000 }, () => "x") }), "command_line", /maxCommandLineArgs/],
    ["a command line too large", run({ commandLine: Array.from({ length: 100 }, () => "x".repeat(1_000)) }), "command_line", /maxCommandLineBytes/],
    ["GPU memory above 2^53", run({ gpuMemoryBytes: 2 ** 64 }), "gpu_memory_bytes", /below 2\^53/],
    ["a NUL in the name", run({ name: "a\u0000b" }), "name", /contains a NUL character/],
  ];
  for (const [name, info, field, message] of cases) {
    it(`rejects ${name}`, () => {
      expect(fieldOf(() => checkRunInfoLimits(info))).toBe(field);
      expect(() => checkRunInfoLimits(info)).toThrow(message);
    });
  }
});

describe("checkRankInfoLimits", () => {
  const coords = { tp: 0, cp: 0, dp: 0, pp: 0, ep: 0, etp: 0, edp: 0 };
  it("names the oversized hello field", () => {
    expect(fieldOf(() => checkRankInfoLimits({ rank: 0, host: "h".repeat(300), device: "", coords }, "c"))).toBe("hello.host");
    expect(fieldOf(() => checkRankInfoLimits({ rank: 0, host: "h", device: "d".repeat(300), coords }, "c"))).toBe("hello.device");
    expect(fieldOf(() => checkRankInfoLimits({ rank: 0, host: "h", device: "d", coords }, "c".repeat(200)))).toBe("hello.client");
    expect(fieldOf(() => checkRankInfoLimits({ rank: 0, host: "h", device: "d", coords: { ...coords, dp: 2 ** 32 - 1 } }, "c"))).toBe("hello.coords.dp");
    expect(fieldOf(() => checkRankInfoLimits({ rank: 0, host: "h", device: "d", coords }, "c"))).toBeUndefined();
  });
});

describe("checkOomLimits and checkEventLimits", () => {
  const oom = (over: Partial<OomEvent> = {}): OomEvent => ({ rank: 1, step: 10, phase: "forward", message: "CUDA out of memory", ...over });
  const r = { worldSize: 8, numLayers: 4 };
  const memory = { allocatedBytes: 1, reservedBytes: 2, peakAllocatedBytes: 3, numOoms: 1, numAllocRetries: 0 };
  const cases: Array<[string, OomEvent, string | undefined]> = [
    ["a valid report", oom({ layer: 2, memory, requestedBytes: 1024, wallTimeMs: 1 }), undefined],
    ["a rank outside the world", oom({ rank: 8 }), "rank"],
    ["a step above 2^53", oom({ step: 2 ** 60 }), "step"],
    ["a step beyond a 32-bit column", oom({ step: 2 ** 31 }), "step"],
    ["a layer outside the model", oom({ layer: 5 }), "layer"],
    ["NaN memory", oom({ memory: { ...memory, reservedBytes: Number.NaN } }), "memory.reserved_bytes"],
    ["negative memory", oom({ memory: { ...memory, numOoms: -1 } }), "memory.num_ooms"],
    ["infinite requested bytes", oom({ requestedBytes: Number.POSITIVE_INFINITY }), "requested_bytes"],
    ["a NaN wall time", oom({ wallTimeMs: Number.NaN }), "wall_time_ms"],
    ["a huge message", oom({ message: "x".repeat(limit("maxEventMessage") + 1) }), "message"],
    ["a long phase", oom({ phase: "p".repeat(100) }), "phase"],
  ];
  for (const [name, ev, field] of cases) {
    it(`OOM: ${name}`, () => expect(fieldOf(() => checkOomLimits(ev, r))).toBe(field));
  }
  it("crash events: rank, message size", () => {
    expect(fieldOf(() => checkEventLimits({ rank: -1, step: 0, message: "" }, 8))).toBe("rank");
    expect(fieldOf(() => checkEventLimits({ rank: 0, step: 0, message: "m".repeat(LIMITS.maxEventMessage.value + 1) }, 8))).toBe("message");
    expect(fieldOf(() => checkEventLimits({ rank: 0, step: 0, message: "crashed" }, 8))).toBeUndefined();
  });
});

describe("checkBatchHeader", () => {
  it("accepts exact sequence numbers and rejects ones that lost precision", () => {
    expect(fieldOf(() => checkBatchHeader(7, 0))).toBeUndefined();
    expect(fieldOf(() => checkBatchHeader(2 ** 64, 0))).toBe("batch.seq");
    expect(fieldOf(() => checkBatchHeader(1, 2 ** 64))).toBe("batch.dropped_batches");
  });
});

describe("checkClientInstance", () => {
  it.each([
    { name: "a UUID", instance: "0f8fad5b-d9cb-469f-a165-70867728950e", ok: true },
    { name: "anonymous (empty)", instance: "", ok: true },
    { name: "a space", instance: "a b", ok: false },
    { name: "a control character", instance: "ab\u0000", ok: false },
    { name: "over maxClientInstance", instance: "x".repeat(limit("maxClientInstance") + 1), ok: false },
  ])("$name", ({ instance, ok }) => {
    const check = () => checkClientInstance(instance, "hello.client_instance");
    if (ok) expect(check()).toBe(instance);
    else expect(check).toThrow(/hello\.client_instance/);
  });
});
