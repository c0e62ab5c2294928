/**
 * Per-record validation of a batch of layer reports and step samples against its run. A bad record
 * is rejected with the wire field that was wrong and why; the rest of the batch is kept.
 */
import { MEMORY_FIELDS } from "./checkInputLimits";
import { InvalidInput } from "../analysis/errors";
import { limit, textProblem } from "./limits";
import { LOSS_NAMES, type LayerReport, type ScalarPoint, type StepSample } from "../analysis/types";

/** BatchContext: what a batch is validated against. */
export interface BatchContext {
  numExperts: number;
  numLayers: number;
  topk: number;
  expertModelParallelSize: number;
  moeLayers: ReadonlySet<number>;
  /** The MoE layers held by the sending rank's pipeline stage, when known. */
  stageLayers?: ReadonlySet<number>;
  /** The sending rank's pipeline stage (for the message). */
  stage?: number;
}

/**
 * Rejection: one record that was not stored. `field` uses the wire (proto) field names. ALREADY_EXISTS is a
 * record whose key is stored with other values (found when the batch is written, not when it is validated).
 */
export interface Rejection {
  code: "INVALID_ARGUMENT" | "ALREADY_EXISTS";
  field: string;
  reason: string;
}

/** ValidatedBatch: the records to store and the ones rejected. */
export interface ValidatedBatch {
  layers: LayerReport[];
  steps: StepSample[];
  scalars: ScalarPoint[];
  rejected: Rejection[];
}

/** MAX_SCALAR_NAME: longest accepted series name (LIMITS.maxScalarName). */
export const MAX_SCALAR_NAME = limit("maxScalarName");

/**
 * validateBatch checks every record of a batch and splits it into accepted and rejected records. A batch
 * with more records than LIMITS.maxRecordsPerBatch is refused whole (InvalidInput): it is a sender bug,
 * and checking it record by record would already cost what the limit is there to prevent.
 */
export function validateBatch(layers: LayerReport[], steps: StepSample[], ctx: BatchContext, scalars: ScalarPoint[] = []): ValidatedBatch {
  const records = layers.length + steps.length + scalars.length;
  if (records > limit("maxRecordsPerBatch")) {
    throw new InvalidInput(
      `batch has ${records} records (${layers.length} layers, ${steps.length} steps, ${scalars.length} scalars); the limit is ${limit("maxRecordsPerBatch")} (maxRecordsPerBatch): send smaller batches`,
      "batch",
    );
  }
  const out: ValidatedBatch = { layers: [], steps: [], scalars: [], rejected: [] };
  const seen = new Set<string>();
  layers.forEach((r, i) => {
    const problem = checkLayerReport(r, ctx) ?? duplicate(seen, `${r.step}/${r.layer}`, "step and layer");
    if (problem) out.rejected.push({ code: "INVALID_ARGUMENT", field: `layers[${i}].${problem.field}`, reason: problem.reason });
    else out.layers.push(r);
  });
  const seenSteps = new Set<string>();
  steps.forEach((s, i) => {
    const problem = checkStepSample(s) ?? duplicate(seenSteps, String(s.step), "step");
    if (problem) out.rejected.push({ code: "INVALID_ARGUMENT", field: `steps[${i}].${problem.field}`, reason: problem.reason });
    else out.steps.push(s);
  });
  scalars.forEach((p, i) => {
    const problem = checkScalar(p, ctx);
    if (problem) out.rejected.push({ code: "INVALID_ARGUMENT", field: `scalars[${i}].${problem.field}`, reason: problem.reason });
    else out.scalars.push(p);
  });
  return out;
}

function checkScalar(p: ScalarPoint, ctx: BatchContext): Problem {
  const s = checkStep(p.step);
  if (s) return s;
  if (p.name.length === 0 || p.name.length > MAX_SCALAR_NAME) return { field: "name", reason: `the name must have 1 to ${MAX_SCALAR_NAME} characters` };
  const text = textProblem(p.name, "maxScalarName");
  if (text) return { field: "name", reason: `the name ${text}` };
  if (!Number.isInteger(p.layer) || p.layer < 0 || p.layer > ctx.numLayers) {
    return { field: "layer", reason: `layer ${p.layer} is outside 0..${ctx.numLayers} (0 = run-level)` };
  }
  if (!Number.isFinite(p.value)) return { field: "value", reason: `${p.value} is not a finite value` };
  return null;
}

type Problem = { field: string; reason: string } | null;

function duplicate(seen: Set<string>, key: string, what: string): Problem {
  if (seen.has(key)) return { field: "step", reason: `the batch has two records for the same ${what} (${key})` };
  seen.add(key);
  return null;
}

function checkCount(field: string, v: number): Problem {
  if (!Number.isSafeInteger(v) || v < 0) return { field, reason: `${v} is not a non-negative integer` };
  return null;
}

function checkStep(v: number): Problem {
  return checkCount("step", v) ?? (v > limit("maxStep") ? { field: "step", reason: `${v} is above the limit ${limit("maxStep")} (maxStep)` } : null);
}

function checkVector(field: string, values: number[], expected: number, what: string, max: number): Problem {
  if (values.length !== expected) {
    return { field, reason: `expected ${expected} values (${what}), got ${values.length}` };
  }
  for (let e = 0; e < values.length; e++) {
    const v = values[e];
    if (!Number.isSafeInteger(v) || v < 0) return { field: `${field}[${e}]`, reason: `${v} is not a non-negative integer count` };
    if (v > max) return { field: `${field}[${e}]`, reason: `${v} exceeds the ${max} tokens the rank routed (an expert gets each token at most once)` };
  }
  return null;
}

function checkLayerReport(r: LayerReport, ctx: BatchContext): Problem {
  const p =
    checkStep(r.step) ??
    checkCount("tokens", r.tokens) ??
    (Number.isInteger(r.layer) && r.layer >= 1 && r.layer <= ctx.numLayers
      ? null
      : { field: "layer", reason: `layer ${r.layer} is outside 1..${ctx.numLayers} (num_layers)` }) ??
    (ctx.moeLayers.has(r.layer) ? null : { field: "layer", reason: `layer ${r.layer} is a dense layer (moe_layer_freq) and has no experts` }) ??
    (!ctx.stageLayers || ctx.stageLayers.has(r.layer)
      ? null
      : { field: "layer", reason: `layer ${r.layer} is not held by this rank's pipeline stage ${ctx.stage ?? "?"}` }) ??
    (Number.isInteger(r.microBatches) && r.microBatches >= 1 && r.microBatches <= limit("maxMicroBatches")
      ? null
      : { field: "micro_batches", reason: `${r.microBatches} micro-batches; expected 1..${limit("maxMicroBatches")} (maxMicroBatches)` }) ??
    checkVector("tokens_per_expert", r.tokensPerExpert, ctx.numExperts, "num_experts", r.tokens) ??
    (r.tokensPerExpertBeforeDrop && r.tokensPerExpertBeforeDrop.length > 0
      ? checkVector("tokens_per_expert_before_drop", r.tokensPerExpertBeforeDrop, ctx.numExperts, "num_experts", r.tokens)
      : null) ??
    (r.receivedPerLocalExpert && r.receivedPerLocalExpert.length > 0
      ? checkVector(
          "received_per_local_expert",
          r.receivedPerLocalExpert,
          ctx.numExperts / ctx.expertModelParallelSize,
          "num_experts / expert_model_parallel_size",
          Number.MAX_SAFE_INTEGER,
        )
      : null) ??
    (r.dropped === undefined ? null : checkCount("dropped", r.dropped));
  if (p) return p;
  const assigned = r.tokensPerExpert.reduce((a, b) => a + b, 0);
  if (assigned > r.tokens * ctx.topk) {
    return {
      field: "tokens_per_expert",
      reason: `the counts sum to ${assigned}, more than tokens x moe_router_topk = ${r.tokens} x ${ctx.topk}`,
    };
  }
  for (const name of LOSS_NAMES) {
    const v = r.losses[name];
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) {
      return { field: name, reason: `${v} is not a finite non-negative loss value` };
    }
  }
  return null;
}

function checkStepSample(s: StepSample): Problem {
  const p = checkStep(s.step);
  if (p) return p;
  if (s.iterationTimeMs !== undefined && !(Number.isFinite(s.iterationTimeMs) && s.iterationTimeMs >= 0)) {
    return { field: "iteration_time_ms", reason: `${s.iterationTimeMs} is not a finite non-negative duration` };
  }
  if (s.lmLoss !== undefined && !Number.isFinite(s.lmLoss)) return { field: "lm_loss", reason: `${s.lmLoss} is not a finite loss` };
  if (s.wallTimeMs !== undefined && !Number.isFinite(s.wallTimeMs)) return { field: "wall_time_ms", reason: `${s.wallTimeMs} is not a finite time` };
  if (s.memory) {
    for (const [k, wire] of MEMORY_FIELDS) {
      const q = checkCount(`memory.${wire}`, s.memory[k]);
      if (q) return q;
    }
  }
  return null;
}
