/**
 * Minimal protobuf decoding of TensorBoard `tensorflow.Event` records, just enough for scalars, and the
 * mapping of Megatron's TensorBoard tags onto our series.
 *
 * Scalars arrive in two shapes: `Summary.Value.simple_value` (torch.utils.tensorboard, tensorboardX,
 * which Megatron uses) and `Summary.Value.tensor` holding a one-element float/double tensor (TF2 summary
 * ops and newer writers). Field numbers are those of tensorflow/core/util/event.proto,
 * tensorflow/core/framework/summary.proto, tensor.proto and tensor_shape.proto.
 */
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

class ProtoError extends Error {}

const UTF8 = new TextDecoder("utf-8");

// Wire types: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit (3/4 are deprecated groups).
class ProtoReader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtoError("truncated varint");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        // int64 fields encode negatives as 10-byte two's complement.
        return result >= 2 ** 63 ? result - 2 ** 64 : result;
      }
      scale *= 128;
    }
    throw new ProtoError("varint longer than 10 bytes");
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtoError("field runs past the end of the record");
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (n < 0) throw new ProtoError("negative length");
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return UTF8.decode(this.bytes());
  }

  key(): { field: number; wire: number } {
    const k = this.varint();
    const field = Math.floor(k / 8);
    if (field === 0) throw new ProtoError("field number 0");
    return { field, wire: k & 7 };
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.need(8);
        this.pos += 8;
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtoError(`unsupported wire type ${wire}`);
    }
  }
}

function expectWire(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new ProtoError(`${what} has wire type ${actual}, expected ${expected}`);
}

// Repeated numeric fields may be packed (wire 2, proto3 default) or one element per key.
function readRepeated(r: ProtoReader, wire: number, elementWire: number, read: (rr: ProtoReader) => number, into: number[]): void {
  if (wire === 2) {
    const inner = new ProtoReader(r.bytes());
    while (!inner.done) into.push(read(inner));
  } else {
    expectWire(wire, elementWire, "repeated element");
    into.push(read(r));
  }
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

function decodeScalarTensor(bytes: Uint8Array): TensorValue {
  const r = new ProtoReader(bytes);
  let dtype = 0;
  const dims: number[] = [];
  let content: Uint8Array | null = null;
  const floats: number[] = [];
  const doubles: number[] = [];
  const ints: number[] = [];
  let strings = 0;
  while (!r.done) {
    const { field, wire } = r.key();
    if (field === 1 && wire === 0) dtype = r.varint();
    else if (field === 2 && wire === 2) {
      const shape = new ProtoReader(r.bytes());
      while (!shape.done) {
        const k = shape.key();
        if (k.field === 1 && k.wire === 2) {
          const dim = new ProtoReader(shape.bytes());
          let size = 0;
          while (!dim.done) {
            const d = dim.key();
            if (d.field === 1 && d.wire === 0) size = dim.varint();
            else dim.skip(d.wire);
          }
          dims.push(size);
        } else shape.skip(k.wire);
      }
    } else if (field === 4 && wire === 2) content = r.bytes();
    else if (field === 5) readRepeated(r, wire, 5, (rr) => rr.float(), floats);
    else if (field === 6) readRepeated(r, wire, 1, (rr) => rr.double(), doubles);
    else if (field === 7 || field === 10 || field === 13) readRepeated(r, wire, 0, (rr) => rr.varint(), ints);
    else if (field === 8 && wire === 2) {
      r.bytes();
      strings++;
    } else r.skip(wire);
  }
  const elements = dims.reduce((a, b) => a * b, 1);
  if (dtype === DT_STRING || strings > 0) return { ok: false, reason: "string tensor (text summary)" };
  if (elements !== 1) return { ok: false, reason: `non-scalar tensor of shape [${dims.join(", ")}]` };

  const fromContent = (width: number, get: (v: DataView) => number): number | undefined =>
    content && content.length >= width ? get(new DataView(content.buffer, content.byteOffset, width)) : undefined;
  let value: number | undefined;
  switch (dtype) {
    case DT_FLOAT:
      value = floats[0] ?? fromContent(4, (v) => v.getFloat32(0, true));
      break;
    case DT_DOUBLE:
      value = doubles[0] ?? fromContent(8, (v) => v.getFloat64(0, true));
      break;
    case DT_INT32:
      value = ints[0] ?? fromContent(4, (v) => v.getInt32(0, true));
      break;
    case DT_INT64:
      value = ints[0] ?? fromContent(8, (v) => Number(v.getBigInt64(0, true)));
      break;
    case DT_HALF: {
      const bits = ints[0] ?? fromContent(2, (v) => v.getUint16(0, true));
      value = bits === undefined ? undefined : halfToNumber(bits);
      break;
    }
    case DT_BFLOAT16: {
      const bits = ints[0] ?? fromContent(2, (v) => v.getUint16(0, true));
      value = bits === undefined ? undefined : bfloat16ToNumber(bits);
      break;
    }
    default:
      return { ok: false, reason: `unsupported tensor dtype ${dtype}` };
  }
  // proto3 omits zero-valued fields, so a scalar 0 may arrive with neither a value nor content.
  return { ok: true, value: value ?? 0 };
}

function decodeSummary(bytes: Uint8Array, event: DecodedEvent): void {
  const r = new ProtoReader(bytes);
  while (!r.done) {
    const { field, wire } = r.key();
    if (field !== 1 || wire !== 2) {
      r.skip(wire);
      continue;
    }
    const v = new ProtoReader(r.bytes());
    let tag = "";
    let simple: number | undefined;
    let tensor: Uint8Array | undefined;
    let other: string | undefined;
    while (!v.done) {
      const k = v.key();
      if (k.field === 1 && k.wire === 2) tag = v.string();
      else if (k.field === 7 && k.wire === 2 && !tag) tag = v.string(); // node_name: legacy tag
      else if (k.field === 2 && k.wire === 5) simple = v.float();
      else if (k.field === 8 && k.wire === 2) tensor = v.bytes();
      else {
        if (k.field === 3 || k.field === 5) other = "histogram";
        else if (k.field === 4) other = "image";
        else if (k.field === 6) other = "audio";
        v.skip(k.wire);
      }
    }
    if (simple !== undefined) event.scalars.push({ tag, value: simple });
    else if (tensor !== undefined) {
      const t = decodeScalarTensor(tensor);
      if (t.ok) event.scalars.push({ tag, value: t.value });
      else event.skippedValues.push({ tag, reason: t.reason });
    } else event.skippedValues.push({ tag, reason: other ? `${other} summary` : "value without data" });
  }
}

/** decodeTensorBoardEvent: decode one TFRecord payload as a tensorflow.Event and pull out its scalars. */
export function decodeTensorBoardEvent(bytes: Uint8Array): DecodeEventResult {
  const event: DecodedEvent = { wallTime: 0, step: 0, scalars: [], skippedValues: [] };
  try {
    const r = new ProtoReader(bytes);
    while (!r.done) {
      const { field, wire } = r.key();
      if (field === 1) {
        expectWire(wire, 1, "wall_time");
        event.wallTime = r.double();
      } else if (field === 2) {
        expectWire(wire, 0, "step");
        event.step = r.varint();
      } else if (field === 3) {
        expectWire(wire, 2, "file_version");
        event.fileVersion = r.string();
      } else if (field === 5) {
        expectWire(wire, 2, "summary");
        decodeSummary(r.bytes(), event);
      } else r.skip(wire);
    }
  } catch (e) {
    if (e instanceof ProtoError) return { ok: false, reason: `malformed event: ${e.message}` };
    throw e;
  }
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
