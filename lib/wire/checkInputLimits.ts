/**
 * Size and value checks on what a sender registers and reports outside of batches: the run
 * (strings, sizes, configuration JSON, command line), a rank's hello, and OOM and crash events. Each
 * problem throws InvalidInput naming the wire field and the limit from LIMITS, so a hostile or broken
 * sender gets INVALID_ARGUMENT and nothing is stored. Batches are checked per record by validateBatch.
 */
import { InvalidInput } from "../analysis/errors";
import { checkMaxValue, checkStringLength, formatBytes, limit, utf8Bytes } from "./limits";
import type { MemorySample, OomEvent, RankInfo, RunInfo } from "../analysis/types";

/** checkRunInfoLimits rejects a registration whose strings, sizes or configuration exceed LIMITS. */
export function checkRunInfoLimits(info: RunInfo): void {
  checkStringLength("run_key", info.runKey, "maxRunKey");
  checkStringLength("name", info.name, "maxName");
  checkStringLength("framework", info.framework, "maxFramework");
  checkStringLength("framework_version", info.frameworkVersion, "maxFramework");
  const c = info.config;
  checkMaxValue("config.num_experts", c.num_experts, "maxExperts");
  checkMaxValue("config.num_layers", c.num_layers, "maxLayers");
  checkMaxValue("world_size", info.worldSize, "maxWorldSize");
  checkMaxValue("gpus_per_node", info.gpusPerNode, "maxWorldSize");
  for (const f of [
    "tensor_model_parallel_size",
    "pipeline_model_parallel_size",
    "context_parallel_size",
    "expert_model_parallel_size",
    "expert_tensor_parallel_size",
  ] as const) {
    checkMaxValue(`config.${f}`, c[f], "maxParallelSize");
  }
  if (!Number.isSafeInteger(info.gpuMemoryBytes) || info.gpuMemoryBytes < 0) {
    throw new InvalidInput(`gpu_memory_bytes ${info.gpuMemoryBytes} is not a non-negative integer below 2^53`, "gpu_memory_bytes");
  }
  for (const [k, v] of Object.entries(c)) {
    if (typeof v === "string") checkStringLength(`config.${k}`, v, "maxConfigString");
  }
  const extra = c.extra ?? {};
  const extraKeys = Object.keys(extra);
  if (extraKeys.length > limit("maxConfigExtraEntries")) {
    throw new InvalidInput(`config.extra has ${extraKeys.length} entries; the limit is ${limit("maxConfigExtraEntries")} (maxConfigExtraEntries)`, "config.extra");
  }
  for (const k of extraKeys) {
    checkStringLength(`config.extra key`, k, "maxConfigString");
    checkStringLength(`config.extra["${k.slice(0, 40)}"]`, extra[k], "maxConfigString");
  }
  for (const [i, m] of (c.recompute_modules ?? []).entries()) checkStringLength(`config.recompute_modules[${i}]`, m, "maxConfigString");
  const configBytes = utf8Bytes(JSON.stringify(c));
  if (configBytes > limit("maxConfigJsonBytes")) {
    throw new InvalidInput(`config is ${configBytes} bytes as JSON; the limit is ${formatBytes(limit("maxConfigJsonBytes"))} (maxConfigJsonBytes)`, "config");
  }
  if (info.commandLine.length > limit("maxCommandLineArgs")) {
    throw new InvalidInput(`command_line has ${info.commandLine.length} arguments; the limit is ${limit("maxCommandLineArgs")} (maxCommandLineArgs)`, "command_line");
  }
  const commandBytes = info.commandLine.reduce((n, a) => n + utf8Bytes(a) + 1, 0);
  if (commandBytes > limit("maxCommandLineBytes")) {
    throw new InvalidInput(`command_line is ${commandBytes} bytes; the limit is ${formatBytes(limit("maxCommandLineBytes"))} (maxCommandLineBytes)`, "command_line");
  }
}

/** checkRankInfoLimits rejects a hello whose strings exceed LIMITS or whose coordinates cannot be a rank's. */
export function checkRankInfoLimits(info: RankInfo, client: string): void {
  checkStringLength("hello.host", info.host, "maxHost");
  checkStringLength("hello.device", info.device, "maxDevice");
  checkStringLength("hello.client", client, "maxClient");
  // tp/cp/pp/ep/etp are checked against the run's sizes (validateRank); dp, edp and vpp only here.
  for (const [k, v] of Object.entries(info.coords)) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v >= limit("maxWorldSize"))) {
      throw new InvalidInput(`hello.coords.${k} is ${v}; expected 0..${limit("maxWorldSize") - 1} (maxWorldSize)`, `hello.coords.${k}`);
    }
  }
}

/**
 * checkClientInstance accepts an empty (anonymous) or printable client instance id within LIMITS and returns it:
 * it is stored as a key and shown in logs, so no spaces or control characters.
 */
export function checkClientInstance(instance: string, field: string): string {
  checkStringLength(field, instance, "maxClientInstance");
  if (!/^[\x21-\x7e]*$/.test(instance)) throw new InvalidInput(`${field} must be printable ASCII without spaces (a UUID, say)`, field);
  return instance;
}

/** checkBatchHeader rejects a batch whose sequence number or dropped-batch count is not an exact integer. */
export function checkBatchHeader(seq: number, droppedBatches: number): void {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new InvalidInput(`batch.seq ${seq} is not a non-negative integer below 2^53 (maxSeq)`, "batch.seq");
  if (!Number.isSafeInteger(droppedBatches) || droppedBatches < 0) {
    throw new InvalidInput(`batch.dropped_batches ${droppedBatches} is not a non-negative integer below 2^53`, "batch.dropped_batches");
  }
}

/** MEMORY_FIELDS: each MemorySample field with its wire name; every one is a count in bytes or events. */
export const MEMORY_FIELDS = [
  ["allocatedBytes", "allocated_bytes"],
  ["reservedBytes", "reserved_bytes"],
  ["peakAllocatedBytes", "peak_allocated_bytes"],
  ["numOoms", "num_ooms"],
  ["numAllocRetries", "num_alloc_retries"],
] as const;

/** checkMemorySample rejects a memory sample with a count that is not a non-negative integer below 2^53. */
export function checkMemorySample(field: string, m: MemorySample | undefined): void {
  if (!m) return;
  for (const [k, wire] of MEMORY_FIELDS) {
    const v = m[k];
    if (!Number.isSafeInteger(v) || v < 0) throw new InvalidInput(`${field}.${wire} ${v} is not a non-negative integer below 2^53`, `${field}.${wire}`);
  }
}

/**
 * checkOomLimits rejects an OOM report with an impossible rank, step, layer or memory value or an
 * oversized message. `worldSize` and `numLayers` come from the registered run.
 */
export function checkOomLimits(oom: OomEvent, run: { worldSize: number; numLayers: number }): void {
  checkEventBasics(oom, run.worldSize);
  checkStringLength("phase", oom.phase, "maxPhase");
  if (oom.layer !== undefined && (!Number.isInteger(oom.layer) || oom.layer < 1 || oom.layer > run.numLayers)) {
    throw new InvalidInput(`layer ${oom.layer} is outside 1..${run.numLayers} (num_layers)`, "layer");
  }
  checkMemorySample("memory", oom.memory);
  if (oom.requestedBytes !== undefined && (!Number.isSafeInteger(oom.requestedBytes) || oom.requestedBytes < 0)) {
    throw new InvalidInput(`requested_bytes ${oom.requestedBytes} is not a non-negative integer below 2^53`, "requested_bytes");
  }
}

/** checkEventLimits rejects a crash or finish event with an impossible rank, step or time or an oversized message. */
export function checkEventLimits(ev: { rank: number; step: number; message: string; wallTimeMs?: number }, worldSize: number): void {
  checkEventBasics(ev, worldSize);
}

function checkEventBasics(ev: { rank: number; step: number; message: string; wallTimeMs?: number }, worldSize: number): void {
  if (!Number.isInteger(ev.rank) || ev.rank < 0 || ev.rank >= worldSize) {
    throw new InvalidInput(`rank ${ev.rank} is outside the run's world size ${worldSize}`, "rank");
  }
  if (!Number.isSafeInteger(ev.step) || ev.step < 0 || ev.step > limit("maxStep")) {
    throw new InvalidInput(`step ${ev.step} is not an integer in 0..${limit("maxStep")} (maxStep)`, "step");
  }
  checkStringLength("message", ev.message, "maxEventMessage");
  if (ev.wallTimeMs !== undefined && !(Number.isFinite(ev.wallTimeMs) && ev.wallTimeMs >= 0)) {
    throw new InvalidInput(`wall_time_ms ${ev.wallTimeMs} is not a finite non-negative time`, "wall_time_ms");
  }
}
