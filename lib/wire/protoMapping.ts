/**
 * Translation between wire messages (generated proto types) and the domain types of the core.
 * The only place that knows both.
 */
import type { LayerReport, MemorySample, OomEvent, RankInfo, RunConfig, RunInfo, ScalarPoint, StepSample } from "../analysis/types";
import type { ScalarPoint as ScalarPointWire, ScalarPoint__Output } from "../../generated/proto/moe/telemetry/v1/ScalarPoint";
import type { LayerReport__Output } from "../../generated/proto/moe/telemetry/v1/LayerReport";
import type { MemorySample__Output } from "../../generated/proto/moe/telemetry/v1/MemorySample";
import type { OomReport__Output } from "../../generated/proto/moe/telemetry/v1/OomReport";
import type { RankHello__Output } from "../../generated/proto/moe/telemetry/v1/RankHello";
import type { RegisterRunRequest__Output } from "../../generated/proto/moe/telemetry/v1/RegisterRunRequest";
import type { RunConfig as RunConfigWire, RunConfig__Output } from "../../generated/proto/moe/telemetry/v1/RunConfig";
import type { StepSample__Output } from "../../generated/proto/moe/telemetry/v1/StepSample";
import type { LayerReport as LayerReportWire } from "../../generated/proto/moe/telemetry/v1/LayerReport";
import type { StepSample as StepSampleWire } from "../../generated/proto/moe/telemetry/v1/StepSample";
import type { MemorySample as MemorySampleWire } from "../../generated/proto/moe/telemetry/v1/MemorySample";
import { InvalidInput } from "../analysis/errors";
import { moeLayoutUnknown } from "../analysis/moeLayoutUnknown";

const nonEmpty = (s: string): string | undefined => (s === "" ? undefined : s);
const positive = (n: number): number | undefined => (n > 0 ? n : undefined);

/** runConfigFromWire maps RunConfig; unset fields take Megatron's defaults for the parallel sizes. */
export function runConfigFromWire(c: RunConfig__Output | null): RunConfig {
  if (!c) throw new InvalidInput("config is missing", "config");
  const cfg: RunConfig = {
    num_layers: c.num_layers,
    hidden_size: positive(c.hidden_size),
    seq_length: positive(c.seq_length),
    micro_batch_size: positive(c.micro_batch_size),
    global_batch_size: positive(c.global_batch_size),
    num_experts: c.num_experts,
    moe_router_topk: c.moe_router_topk,
    moe_router_load_balancing_type: nonEmpty(c.moe_router_load_balancing_type),
    moe_aux_loss_coeff: c.moe_aux_loss_coeff,
    moe_z_loss_coeff: c.moe_z_loss_coeff,
    moe_token_dispatcher_type: nonEmpty(c.moe_token_dispatcher_type),
    moe_expert_capacity_factor: c.moe_expert_capacity_factor,
    moe_pad_expert_input_to_capacity: c.moe_pad_expert_input_to_capacity,
    moe_token_drop_policy: nonEmpty(c.moe_token_drop_policy),
    moe_layer_freq: nonEmpty(c.moe_layer_freq),
    moe_ffn_hidden_size: c.moe_ffn_hidden_size,
    moe_shared_expert_intermediate_size: c.moe_shared_expert_intermediate_size,
    moe_grouped_gemm: c.moe_grouped_gemm,
    moe_router_enable_expert_bias: c.moe_router_enable_expert_bias,
    moe_layer_recompute: c.moe_layer_recompute,
    recompute_granularity: nonEmpty(c.recompute_granularity),
    recompute_modules: c.recompute_modules.length ? c.recompute_modules : undefined,
    tensor_model_parallel_size: c.tensor_model_parallel_size || 1,
    pipeline_model_parallel_size: c.pipeline_model_parallel_size || 1,
    num_layers_per_virtual_pipeline_stage: c.num_layers_per_virtual_pipeline_stage,
    context_parallel_size: c.context_parallel_size || 1,
    expert_model_parallel_size: c.expert_model_parallel_size || 1,
    expert_tensor_parallel_size: c.expert_tensor_parallel_size,
    sequence_parallel: c.sequence_parallel,
    disable_bias_linear: c.disable_bias_linear,
    bf16: c.bf16,
    fp16: c.fp16,
    fp8: nonEmpty(c.fp8),
    extra: Object.keys(c.extra).length ? { ...c.extra } : undefined,
  };
  // Drop undefined keys so stored JSON only holds what was said.
  return JSON.parse(JSON.stringify(cfg)) as RunConfig;
}

/** runConfigToWire maps a RunConfig to the wire message. */
export function runConfigToWire(c: RunConfig): RunConfigWire {
  return { ...c, extra: c.extra ?? {}, recompute_modules: c.recompute_modules ?? [] };
}

/** runInfoFromWire maps RegisterRunRequest, checking the fields a run cannot do without. */
export function runInfoFromWire(req: RegisterRunRequest__Output): RunInfo {
  if (!req.run_key) throw new InvalidInput("run_key is empty", "run_key");
  if (req.run_key.length > 200) throw new InvalidInput("run_key is longer than 200 characters", "run_key");
  const config = runConfigFromWire(req.config);
  // All three 0: the MoE layout is unknown (an imported log excerpt without Megatron's arguments block); the
  // run holds run-level series only, and every layer report is refused (it has no MoE layers).
  if (!moeLayoutUnknown(config)) {
    if (!(config.num_experts > 0)) throw new InvalidInput("config.num_experts must be at least 1", "config.num_experts");
    if (!(config.moe_router_topk > 0 && config.moe_router_topk <= config.num_experts)) {
      throw new InvalidInput(`config.moe_router_topk ${config.moe_router_topk} must be in 1..num_experts (${config.num_experts})`, "config.moe_router_topk");
    }
    if (!(config.num_layers > 0)) throw new InvalidInput("config.num_layers must be at least 1", "config.num_layers");
  }
  if (!(req.world_size > 0)) throw new InvalidInput("world_size must be at least 1", "world_size");
  return {
    runKey: req.run_key,
    name: req.name || req.run_key,
    config,
    worldSize: req.world_size,
    gpusPerNode: req.gpus_per_node || 8,
    gpuMemoryBytes: req.gpu_memory_bytes,
    framework: req.framework,
    frameworkVersion: req.framework_version,
    simulated: req.simulated,
    commandLine: req.command_line,
  };
}

/** rankInfoFromWire maps RankHello. */
export function rankInfoFromWire(h: RankHello__Output): RankInfo {
  if (!h.coords) throw new InvalidInput("hello.coords is missing", "hello.coords");
  const c = h.coords;
  return {
    rank: h.rank,
    host: h.host,
    device: h.device,
    coords: { tp: c.tp, cp: c.cp, dp: c.dp, pp: c.pp, ...(c.vpp === undefined ? {} : { vpp: c.vpp }), ep: c.ep, etp: c.etp, edp: c.edp },
  };
}

function memoryFromWire(m: MemorySample__Output | null): MemorySample | undefined {
  if (!m) return undefined;
  return {
    allocatedBytes: m.allocated_bytes,
    reservedBytes: m.reserved_bytes,
    peakAllocatedBytes: m.peak_allocated_bytes,
    numOoms: m.num_ooms,
    numAllocRetries: m.num_alloc_retries,
  };
}

/** layerReportFromWire maps LayerReport (values are checked later by validateBatch). */
export function layerReportFromWire(r: LayerReport__Output): LayerReport {
  const losses: LayerReport["losses"] = {};
  if (r.load_balancing_loss !== undefined) losses.load_balancing_loss = r.load_balancing_loss;
  if (r.seq_load_balancing_loss !== undefined) losses.seq_load_balancing_loss = r.seq_load_balancing_loss;
  if (r.global_load_balancing_loss !== undefined) losses.global_load_balancing_loss = r.global_load_balancing_loss;
  if (r.z_loss !== undefined) losses.z_loss = r.z_loss;
  return {
    step: r.step,
    layer: r.layer,
    microBatches: r.micro_batches,
    tokens: r.tokens,
    tokensPerExpert: r.tokens_per_expert,
    ...(r.tokens_per_expert_before_drop.length ? { tokensPerExpertBeforeDrop: r.tokens_per_expert_before_drop } : {}),
    ...(r.received_per_local_expert.length ? { receivedPerLocalExpert: r.received_per_local_expert } : {}),
    ...(r.dropped === undefined ? {} : { dropped: r.dropped }),
    losses,
  };
}

/** stepSampleFromWire maps StepSample. */
export function stepSampleFromWire(s: StepSample__Output): StepSample {
  return {
    step: s.step,
    ...(s.iteration_time_ms === undefined ? {} : { iterationTimeMs: s.iteration_time_ms }),
    ...(s.lm_loss === undefined ? {} : { lmLoss: s.lm_loss }),
    ...(s.memory ? { memory: memoryFromWire(s.memory) } : {}),
    ...(s.wall_time_ms === undefined ? {} : { wallTimeMs: s.wall_time_ms }),
  };
}

/** oomFromWire maps OomReport. */
export function oomFromWire(o: OomReport__Output): OomEvent {
  return {
    rank: o.rank,
    step: o.step,
    phase: o.phase || "unknown",
    ...(o.layer === undefined ? {} : { layer: o.layer }),
    message: o.message,
    ...(o.memory ? { memory: memoryFromWire(o.memory) } : {}),
    ...(o.wall_time_ms === undefined ? {} : { wallTimeMs: o.wall_time_ms }),
    ...(o.requested_bytes === undefined ? {} : { requestedBytes: o.requested_bytes }),
  };
}

/** memoryToWire maps a MemorySample to the wire. */
export function memoryToWire(m: MemorySample): MemorySampleWire {
  return {
    allocated_bytes: m.allocatedBytes,
    reserved_bytes: m.reservedBytes,
    peak_allocated_bytes: m.peakAllocatedBytes,
    num_ooms: m.numOoms,
    num_alloc_retries: m.numAllocRetries,
  };
}

/** layerReportToWire maps a LayerReport to the wire (used by the TypeScript client). */
export function layerReportToWire(r: LayerReport): LayerReportWire {
  return {
    step: r.step,
    layer: r.layer,
    micro_batches: r.microBatches,
    tokens: r.tokens,
    tokens_per_expert: r.tokensPerExpert,
    tokens_per_expert_before_drop: r.tokensPerExpertBeforeDrop ?? [],
    received_per_local_expert: r.receivedPerLocalExpert ?? [],
    ...(r.dropped === undefined ? {} : { dropped: r.dropped }),
    ...r.losses,
  };
}

/** stepSampleToWire maps a StepSample to the wire. */
export function stepSampleToWire(s: StepSample): StepSampleWire {
  return {
    step: s.step,
    ...(s.iterationTimeMs === undefined ? {} : { iteration_time_ms: s.iterationTimeMs }),
    ...(s.lmLoss === undefined ? {} : { lm_loss: s.lmLoss }),
    ...(s.memory ? { memory: memoryToWire(s.memory) } : {}),
    ...(s.wallTimeMs === undefined ? {} : { wall_time_ms: s.wallTimeMs }),
  };
}

/** scalarFromWire maps ScalarPoint. */
export function scalarFromWire(p: ScalarPoint__Output): ScalarPoint {
  return { step: p.step, name: p.name, layer: p.layer, value: p.value };
}

/** scalarToWire maps a ScalarPoint to the wire. */
export function scalarToWire(p: ScalarPoint): ScalarPointWire {
  return { step: p.step, name: p.name, layer: p.layer, value: p.value };
}
