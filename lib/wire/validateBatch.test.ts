import { describe, expect, it } from "vitest";
import { limit } from "./limits";
import { validateBatch, type BatchContext } from "./validateBatch";
import type { LayerReport, StepSample } from "../analysis/types";

const ctx: BatchContext = { numExperts: 4, numLayers: 4, topk: 2, expertModelParallelSize: 2, moeLayers: new Set([2, 3, 4]) };
const good = (over: Partial<LayerReport> = {}): LayerReport => ({
  step: 7,
  layer: 3,
  microBatches: 2,
  tokens: 10,
  tokensPerExpert: [5, 5, 6, 4], // sums to 20 = tokens x topk
  losses: { load_balancing_loss: 1.02, z_loss: 9.5 },
  ...over,
});

describe("validateBatch", () => {
  const layerCases: Array<{ name: string; report: LayerReport; field?: string; reason?: RegExp }> = [
    { name: "a valid report", report: good() },
    { name: "fewer drops are fine (sum below T x k)", report: good({ tokensPerExpert: [5, 5, 5, 0], dropped: 5 }) },
    { name: "wrong expert array length", report: good({ tokensPerExpert: [5, 5, 10] }), field: "layers[0].tokens_per_expert", reason: /expected 4 values \(num_experts\), got 3/ },
    { name: "negative count", report: good({ tokensPerExpert: [-1, 7, 10, 4] }), field: "layers[0].tokens_per_expert[0]", reason: /-1 is not a non-negative integer/ },
    { name: "fractional count", report: good({ tokensPerExpert: [5.5, 5, 6, 3.5] }), field: "layers[0].tokens_per_expert[0]" },
    { name: "count above T_local", report: good({ tokensPerExpert: [11, 9, 0, 0] }), field: "layers[0].tokens_per_expert[0]", reason: /exceeds the 10 tokens/ },
    { name: "counts above T x k", report: good({ tokensPerExpert: [10, 10, 1, 0] }), field: "layers[0].tokens_per_expert", reason: /sum to 21, more than tokens x moe_router_topk = 10 x 2/ },
    { name: "layer 0", report: good({ layer: 0 }), field: "layers[0].layer", reason: /outside 1\.\.4/ },
    { name: "dense layer", report: good({ layer: 1 }), field: "layers[0].layer", reason: /dense layer/ },
    { name: "NaN aux loss", report: good({ losses: { load_balancing_loss: Number.NaN } }), field: "layers[0].load_balancing_loss" },
    { name: "-Infinity z-loss", report: good({ losses: { z_loss: Number.NEGATIVE_INFINITY } }), field: "layers[0].z_loss" },
    { name: "no micro-batches", report: good({ microBatches: 0 }), field: "layers[0].micro_batches" },
    { name: "received counts of the wrong length", report: good({ receivedPerLocalExpert: [1, 2, 3] }), field: "layers[0].received_per_local_expert", reason: /expected 2 values/ },
    { name: "before-drop counts of the wrong length", report: good({ tokensPerExpertBeforeDrop: [1] }), field: "layers[0].tokens_per_expert_before_drop" },
    { name: "negative dropped", report: good({ dropped: -3 }), field: "layers[0].dropped" },
    { name: "step beyond a 32-bit column", report: good({ step: 2 ** 31 }), field: "layers[0].step", reason: /above the limit 2147483647 \(maxStep\)/ },
    { name: "absurd micro-batch count", report: good({ microBatches: 2 ** 32 - 1 }), field: "layers[0].micro_batches", reason: /maxMicroBatches/ },
  ];
  for (const c of layerCases) {
    it(c.name, () => {
      const r = validateBatch([c.report], [], ctx);
      if (!c.field) {
        expect(r.rejected).toEqual([]);
        expect(r.layers).toEqual([c.report]);
        return;
      }
      expect(r.layers).toEqual([]);
      expect(r.rejected).toHaveLength(1);
      expect(r.rejected[0].field).toBe(c.field);
      expect(r.rejected[0].code).toBe("INVALID_ARGUMENT");
      if (c.reason) expect(r.rejected[0].reason).toMatch(c.reason);
    });
  }

  it("keeps the valid records of a batch with bad ones and names each bad one by index", () => {
    const r = validateBatch([good(), good({ layer: 9 }), good({ layer: 4 })], [{ step: 1, lmLoss: Number.NaN }, { step: 2 }], ctx);
    expect(r.layers.map((l) => l.layer)).toEqual([3, 4]);
    expect(r.steps.map((s) => s.step)).toEqual([2]);
    expect(r.rejected.map((x) => x.field)).toEqual(["layers[1].layer", "steps[0].lm_loss"]);
  });

  it("rejects a layer of another pipeline stage", () => {
    const r = validateBatch([good({ layer: 2 }), good({ layer: 3 })], [], { ...ctx, stageLayers: new Set([3, 4]), stage: 1 });
    expect(r.layers.map((l) => l.layer)).toEqual([3]);
    expect(r.rejected).toEqual([{ code: "INVALID_ARGUMENT", field: "layers[0].layer", reason: "layer 2 is not held by this rank's pipeline stage 1" }]);
  });

  it("validates named scalar points per record", () => {
    const r = validateBatch([], [], ctx, [
      { step: 1, name: "lm loss", layer: 0, value: 10.5 },
      { step: 1, name: "load_balancing_loss", layer: 3, value: 1.1 },
      { step: 1, name: "", layer: 0, value: 1 },
      { step: 1, name: "z_loss", layer: 9, value: 1 },
      { step: 2, name: "lm loss", layer: 0, value: Number.NaN },
    ]);
    expect(r.scalars.map((p) => p.name)).toEqual(["lm loss", "load_balancing_loss"]);
    expect(r.rejected.map((x) => x.field)).toEqual(["scalars[2].name", "scalars[3].layer", "scalars[4].value"]);
  });

  it("rejects a scalar name with a NUL character (PostgreSQL text cannot hold it)", () => {
    const r = validateBatch([], [], ctx, [{ step: 1, name: "grad\u0000norm", layer: 0, value: 1 }]);
    expect(r.rejected).toEqual([{ code: "INVALID_ARGUMENT", field: "scalars[0].name", reason: "the name contains a NUL character" }]);
  });

  it("rejects the second of two records for the same step and layer", () => {
    const r = validateBatch([good(), good()], [], ctx);
    expect(r.layers).toHaveLength(1);
    expect(r.rejected[0].reason).toMatch(/two records for the same step and layer \(7\/3\)/);
  });

  const stepCases: Array<{ name: string; sample: StepSample; field?: string }> = [
    { name: "valid step sample", sample: { step: 3, iterationTimeMs: 500, lmLoss: 10.2, memory: { allocatedBytes: 1, reservedBytes: 2, peakAllocatedBytes: 2, numOoms: 0, numAllocRetries: 1 } } },
    { name: "negative iteration time", sample: { step: 3, iterationTimeMs: -1 }, field: "steps[0].iteration_time_ms" },
    { name: "infinite lm loss", sample: { step: 3, lmLoss: Number.POSITIVE_INFINITY }, field: "steps[0].lm_loss" },
    { name: "negative memory", sample: { step: 3, memory: { allocatedBytes: -5, reservedBytes: 2, peakAllocatedBytes: 2, numOoms: 0, numAllocRetries: 0 } }, field: "steps[0].memory.allocated_bytes" },
    { name: "NaN iteration time", sample: { step: 3, iterationTimeMs: Number.NaN }, field: "steps[0].iteration_time_ms" },
    { name: "infinite wall time", sample: { step: 3, wallTimeMs: Number.POSITIVE_INFINITY }, field: "steps[0].wall_time_ms" },
    { name: "NaN peak memory", sample: { step: 3, memory: { allocatedBytes: 1, reservedBytes: 2, peakAllocatedBytes: Number.NaN, numOoms: 0, numAllocRetries: 0 } }, field: "steps[0].memory.peak_allocated_bytes" },
    { name: "memory above 2^53 (lost precision)", sample: { step: 3, memory: { allocatedBytes: 2 ** 64, reservedBytes: 2, peakAllocatedBytes: 2, numOoms: 0, numAllocRetries: 0 } }, field: "steps[0].memory.allocated_bytes" },
    { name: "step above 2^53", sample: { step: 2 ** 60 }, field: "steps[0].step" },
  ];
  for (const c of stepCases) {
    it(c.name, () => {
      const r = validateBatch([], [c.sample], ctx);
      expect(r.rejected.map((x) => x.field)).toEqual(c.field ? [c.field] : []);
      expect(r.steps).toHaveLength(c.field ? 0 : 1);
    });
  }

  it("refuses a batch with more records than LIMITS.maxRecordsPerBatch, naming the limit", () => {
    const steps: StepSample[] = Array.from({ length: limit("maxRecordsPerBatch") + 1 }, (_, i) => ({ step: i }));
    expect(() => validateBatch([], steps, ctx)).toThrow(/batch has 20001 records .*the limit is 20000 \(maxRecordsPerBatch\)/);
    expect(validateBatch([], steps.slice(1), ctx).steps).toHaveLength(limit("maxRecordsPerBatch"));
  });
});
