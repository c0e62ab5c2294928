/**
 * Decoding of TensorBoard `tensorflow.Event` records with protobufjs, just enough for scalars, and the
 * mapping of Megatron's TensorBoard tags onto our series.
 *
 * Scalars arrive in two shapes: `Summary.Value.simple_value` (torch.utils.tensorboard, tensorboardX,
 * which Megatron uses) and `Summary.Value.tensor` holding a one-element float/double tensor (TF2 summary
 * ops and newer writers). The schema below is ours and declares only the fields we read; its field numbers
 * are TensorBoard's published format (tensorflow/core/util/event.proto, framework/summary.proto, tensor.proto,
 * tensor_shape.proto). Fields it does not declare are skipped by the decoder, as protobuf readers do.
 */
import protobuf from "protobufjs";
import { LOSS_NAMES, type LossName } from "../analysis/types";

/** TensorBoardScalar: one scalar value of an event. */
export interface TensorBoardScalar {
  tag: string;
  value: number;
}

/** DecodedEvent: the parts of an Event we use. */
export interface DecodedEvent {
  /** Seconds since the epoch (Event.wall_time). */
  wallTime: number;
  step: number;
  /** Set on the first record of a file, e.g. `brain.Event:2`. */
  fileVersion?: string;
  scalars: TensorBoardScalar[];
  /** Summary values that are not scalars (histograms, images, text, non-scalar tensors), with why. */
  skippedValues: Array<{ tag: string; reason: string }>;
}

/** DecodeEventResult: a decoded event, or why the record could not be decoded. */
export type DecodeEventResult = { ok: true; event: DecodedEvent } | { ok: false; reason: string };

// Kept in the module rather than read from a file, so the importer works the same from the CLI and from
// inside the dashboard's server bundle. Histogram, image and audio values are declared as bytes: only their
// presence matters here.
const EVENT_SCHEMA = `
syntax = "proto3";
package moe.tensorboard;

message Event {
  double wall_time = 1;
  int64 step = 2;
  string file_version = 3;
  Summary summary = 5;
}

message Summary {
  message Value {
    string tag = 1;
    float simple_value = 2;
    bytes obsolete_old_style_histogram = 3;
    bytes image = 4;
    bytes histo = 5;
    bytes audio = 6;
    string node_name = 7;
    TensorProto tensor = 8;
  }
  repeated Value value = 1;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  bytes tensor_content = 4;
  repeated float float_val = 5;
  repeated double double_val = 6;
  repeated int32 int_val = 7;
  repeated bytes string_val = 8;
  repeated int64 int64_val = 10;
  repeated int32 half_val = 13;
}
`;

const EventType = protobuf.parse(EVENT_SCHEMA, { keepCase: true }).root.lookupType("moe.tensorboard.Event");

interface WireTensor {
  dtype?: number;
  tensor_shape?: { dim?: Array<{ size?: number }>; unknown_rank?: boolean };
  tensor_content?: Uint8Array;
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
  string_val?: Uint8Array[];
  int64_val?: number[];
  half_val?: number[];
}

interface WireValue {
  tag?: string;
  node_name?: string;
  simple_value?: number;
  obsolete_old_style_histogram?: Uint8Array;
  image?: Uint8Array;
  histo?: Uint8Array;
  audio?: Uint8Array;
  tensor?: WireTensor;
}

interface WireEvent {
  wall_time?: number;
  step?: number;
  file_version?: string;
  summary?: { value?: WireValue[] };
}

// tensorflow DataType values (types.proto) that can hold a scalar we can plot.
const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_INT32 = 3;
const DT_STRING = 7;
const DT_INT64 = 9;
const DT_BFLOAT16 = 14;
const DT_HALF = 19;

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function bfloat16ToNumber(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (bits & 0xffff) << 16);
  return view.getFloat32(0);
}

type TensorValue = { ok: true; value: number } | { ok: false; reason: string };

function decodeScalarTensor(t: WireTensor): TensorValue {
  const dtype = t.dtype ?? 0;
  const dims = (t.tensor_shape?.dim ?? []).map((d) => Number(d.size ?? 0));
  const elements = dims.reduce((a, b) => a * b, 1);
  if (dtype === DT_STRING || (t.string_val?.length ?? 0) > 0) return { ok: false, reason: "string tensor (text summary)" };
  if (elements !== 1) return { ok: false, reason: `non-scalar tensor of shape [${dims.join(", ")}]` };

  const content = t.tensor_content;
  const fromContent = (width: number, get: (v: DataView) => number): number | undefined =>
    content && content.length >= width ? get(new DataView(content.buffer, content.byteOffset, width)) : undefined;
  let value: number | undefined;
  switch (dtype) {
    case DT_FLOAT:
      value = t.float_val?.[0] ?? fromContent(4, (v) => v.getFloat32(0, true));
      break;
    case DT_DOUBLE:
      value = t.double_val?.[0] ?? fromContent(8, (v) => v.getFloat64(0, true));
      break;
    case DT_INT32:
      value = t.int_val?.[0] ?? fromContent(4, (v) => v.getInt32(0, true));
      break;
    case DT_INT64:
      value = t.int64_val?.[0] ?? fromContent(8, (v) => Number(v.getBigInt64(0, true)));
      break;
    case DT_HALF: {
      const bits = t.half_val?.[0] ?? t.int_val?.[0] ?? fromContent(2, (v) => v.getUint16(0, true));
      value = bits === undefined ? undefined : halfToNumber(bits);
      break;
    }
    case DT_BFLOAT16: {
      const bits = t.half_val?.[0] ?? t.int_val?.[0] ?? fromContent(2, (v) => v.getUint16(0, true));
      value = bits === undefined ? undefined : bfloat16ToNumber(bits);
      break;
    }
    default:
      return { ok: false, reason: `unsupported tensor dtype ${dtype}` };
  }
  // proto3 omits zero-valued fields, so a scalar 0 may arrive with neither a value nor content.
  return { ok: true, value: value ?? 0 };
}

function collectValues(values: WireValue[], event: DecodedEvent): void {
  for (const v of values) {
    const tag = v.tag || v.node_name || ""; // node_name: the legacy tag
    if (v.simple_value !== undefined) event.scalars.push({ tag, value: v.simple_value });
    else if (v.tensor) {
      const t = decodeScalarTensor(v.tensor);
      if (t.ok) event.scalars.push({ tag, value: t.value });
      else event.skippedValues.push({ tag, reason: t.reason });
    } else {
      const other = v.histo || v.obsolete_old_style_histogram ? "histogram" : v.image ? "image" : v.audio ? "audio" : undefined;
      event.skippedValues.push({ tag, reason: other ? `${other} summary` : "value without data" });
    }
  }
}

/** decodeTensorBoardEvent: decode one TFRecord payload as a tensorflow.Event and pull out its scalars. */
export function decodeTensorBoardEvent(bytes: Uint8Array): DecodeEventResult {
  let wire: WireEvent;
  try {
    // int64 as JS numbers (steps and int64 tensors fit), bytes as Uint8Array; absent fields left undefined.
    wire = EventType.toObject(EventType.decode(bytes), { longs: Number, bytes: Uint8Array as unknown as typeof String }) as WireEvent;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // protobufjs says "index out of range: 3 + 10 > 12" when a field or varint runs past the record's end.
    const reason = /index out of range/.test(message) ? "the record ends in the middle of a field (truncated, or not a TensorBoard event)" : message;
    return { ok: false, reason: `malformed event: ${reason}` };
  }
  const event: DecodedEvent = { wallTime: wire.wall_time ?? 0, step: wire.step ?? 0, scalars: [], skippedValues: [] };
  if (wire.file_version) event.fileVersion = wire.file_version;
  collectValues(wire.summary?.value ?? [], event);
  return { ok: true, event };
}

/** ScalarTagClass: what a TensorBoard tag means for us; every variant carries a series `name`. */
export type ScalarTagClass =
  /** A router loss averaged over MoE layers, or per layer when `layer` is set (1-based layer_number). */
  | { kind: "router_loss"; name: LossName; layer?: number }
  /** Another per-layer MoE metric (`moe/<name>_layer_<i>`), layer 1-based. */
  | { kind: "moe_layer_metric"; name: string; layer: number }
  | { kind: "lm_loss"; name: "lm loss" }
  /** Multi-token-prediction loss of depth N (`mtp_N loss`). */
  | { kind: "mtp_loss"; name: string; depth: number }
  /** torch.cuda.memory_stats() values Megatron writes with --log-memory-to-tensorboard. */
  | { kind: "memory"; name: MemoryTagName; unit: "bytes" | "count" }
  /** Per-iteration training scalars; `iteration-time` is in seconds. */
  | { kind: "training"; name: string }
  /** `<key> vs samples`: the same values as `<key>` with consumed samples as the x axis. */
  | { kind: "vs_samples"; name: string }
  | { kind: "other"; name: string };

/** MemoryTagName: our names for Megatron's `mem-*` TensorBoard scalars. */
export type MemoryTagName = "allocated_bytes" | "max_allocated_bytes" | "reserved_bytes" | "allocation_count";

// training.py training_log, under `if args.log_memory_to_tensorboard`.
const MEMORY_TAGS: Record<string, { name: MemoryTagName; unit: "bytes" | "count" }> = {
  "mem-allocated-bytes": { name: "allocated_bytes", unit: "bytes" },
  "mem-max-allocated-bytes": { name: "max_allocated_bytes", unit: "bytes" },
  "mem-reserved-bytes": { name: "reserved_bytes", unit: "bytes" },
  "mem-allocated-count": { name: "allocation_count", unit: "count" },
};

const TRAINING_TAGS = new Set([
  "learning-rate",
  "batch-size",
  "loss-scale",
  "grad-norm",
  "num-zeros",
  "params-norm",
  "iteration-time",
  "throughput",
  "world-size",
  "skipped-train-samples",
]);

const PER_LAYER_TAG = /^moe\/(.+)_layer_(\d+)$/;
const MTP_LOSS_TAG = /^mtp_(\d+) loss$/;

function isLossName(name: string): name is LossName {
  return (LOSS_NAMES as readonly string[]).includes(name);
}

/** classifyScalarTag: map a Megatron TensorBoard tag to our series (per-layer tags to 1-based layers). */
export function classifyScalarTag(tag: string): ScalarTagClass {
  if (isLossName(tag)) return { kind: "router_loss", name: tag };
  const perLayer = PER_LAYER_TAG.exec(tag);
  if (perLayer) {
    // Megatron writes index i of a tensor filled at [layer_number - 1] (moe_logging.py record/_log_per_layer;
    // moe_utils.py save_to_aux_losses_tracker before 2026-05), so i is 0-based: layer_number = i + 1.
    const layer = Number(perLayer[2]) + 1;
    const name = perLayer[1];
    return isLossName(name) ? { kind: "router_loss", name, layer } : { kind: "moe_layer_metric", name, layer };
  }
  if (tag === "lm loss") return { kind: "lm_loss", name: "lm loss" };
  const mtp = MTP_LOSS_TAG.exec(tag);
  if (mtp) return { kind: "mtp_loss", name: tag, depth: Number(mtp[1]) };
  const mem = MEMORY_TAGS[tag];
  if (mem) return { kind: "memory", ...mem };
  if (tag.endsWith(" vs samples")) return { kind: "vs_samples", name: tag.slice(0, -" vs samples".length) };
  if (TRAINING_TAGS.has(tag)) return { kind: "training", name: tag };
  return { kind: "other", name: tag };
}
