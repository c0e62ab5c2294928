/**
 * Packed encoding of non-negative integer vectors (tokens per expert, global load).
 *
 * Two layouts, told apart by the first byte; packCounts writes whichever is shorter, unpackCounts reads
 * both (rows written before format 2 existed stay readable):
 *
 * - 1, varints: the vector length as an unsigned LEB128 varint, then each value as one. Best for short
 *   or very uneven vectors.
 * - 2, bit-packed deltas: the length (varint), a base (varint: the floor of the mean), a bit width w
 *   (one byte), then each value's zigzag-coded difference from the base in exactly w bits, least
 *   significant bit first. The counts of one report scatter around their mean (tokens x topk / experts)
 *   by a few percent, so a 16k count costs ~13 bits instead of 24, and a 2k count of a 64-expert layer
 *   ~9 bits instead of 16.
 */
import { InvalidInput } from "../analysis/errors";

const FORMAT_VARINT = 1;
const FORMAT_DELTA_BITS = 2;
/** Widest delta format 2 packs; wider vectors (values beyond ~2^30 apart) use varints. */
const MAX_WIDTH = 30;

/** Scratch space both encodings are written into; the result is one exact-size copy (allocation dominates). */
let scratch = new Uint8Array(1024);

/** packCounts encodes non-negative safe integers into the shorter of the two packed formats. */
export function packCounts(values: readonly number[]): Uint8Array {
  // Worst case: format 1 takes 1 + 10 (n + 1) bytes; format 2 after it at most 22 + ceil(30 n / 8).
  const need = 2 * (22 + 10 * (values.length + 1));
  if (scratch.length < need) scratch = new Uint8Array(need);
  const out = scratch;
  out[0] = FORMAT_VARINT;
  let pos = writeVarint(out, 1, values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new InvalidInput(`packCounts: value at index ${i} is ${v}, expected a non-negative integer`);
    }
    pos = writeVarint(out, pos, v);
    sum += v;
  }
  const varintEnd = pos;
  if (values.length > 1 && Number.isSafeInteger(sum)) {
    const end = packDeltaBits(values, Math.floor(sum / values.length), out, varintEnd);
    if (end !== null && end - varintEnd < varintEnd) return out.slice(varintEnd, end);
  }
  return out.slice(0, varintEnd);
}

/** packDeltaBits writes format 2 into `out` at `start` and returns its end, or null if a delta is wider than MAX_WIDTH bits. */
function packDeltaBits(values: readonly number[], base: number, out: Uint8Array, start: number): number | null {
  let widest = 0;
  for (const v of values) widest = Math.max(widest, zigzag(v - base));
  let width = 0;
  while (width <= MAX_WIDTH && 2 ** width <= widest) width++;
  if (width > MAX_WIDTH) return null;
  out[start] = FORMAT_DELTA_BITS;
  let pos = writeVarint(out, start + 1, values.length);
  pos = writeVarint(out, pos, base);
  out[pos++] = width;
  // Bits accumulate in an integer flushed a byte at a time: at most 7 + width bits are pending, so up to
  // 24 bits wide 32-bit integer operations are exact (the hot case); wider deltas use exact arithmetic.
  let acc = 0;
  let bits = 0;
  if (width <= 24) {
    for (const v of values) {
      acc |= zigzag(v - base) << bits;
      bits += width;
      while (bits >= 8) {
        out[pos++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
  } else {
    for (const v of values) {
      acc += zigzag(v - base) * 2 ** bits;
      bits += width;
      while (bits >= 8) {
        out[pos++] = acc % 256;
        acc = Math.floor(acc / 256);
        bits -= 8;
      }
    }
  }
  if (bits > 0) out[pos++] = acc;
  return pos;
}

/** zigzag maps a signed difference to a non-negative integer (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...). */
export function zigzag(d: number): number {
  return d >= 0 ? 2 * d : -2 * d - 1;
}

/** unpackCounts decodes bytes written by packCounts (either format), and names what is wrong with corrupt input. */
export function unpackCounts(bytes: Uint8Array): number[] {
  if (bytes.length === 0) throw new InvalidInput("unpackCounts: empty buffer");
  if (bytes[0] === FORMAT_DELTA_BITS) return unpackDeltaBits(bytes);
  if (bytes[0] !== FORMAT_VARINT) throw new InvalidInput(`unpackCounts: unknown format byte ${bytes[0]}`);
  const cursor = { pos: 1 };
  const n = readVarint(bytes, cursor);
  const values = new Array<number>(n);
  for (let i = 0; i < n; i++) values[i] = readVarint(bytes, cursor);
  if (cursor.pos !== bytes.length) {
    throw new InvalidInput(`unpackCounts: ${bytes.length - cursor.pos} trailing bytes after ${n} values`);
  }
  return values;
}

function unpackDeltaBits(bytes: Uint8Array): number[] {
  const cursor = { pos: 1 };
  const n = readVarint(bytes, cursor);
  const base = readVarint(bytes, cursor);
  if (cursor.pos >= bytes.length) throw new InvalidInput("unpackCounts: truncated bit width");
  const width = bytes[cursor.pos++];
  if (width > MAX_WIDTH) throw new InvalidInput(`unpackCounts: bit width ${width} exceeds ${MAX_WIDTH}`);
  const expected = cursor.pos + Math.ceil((n * width) / 8);
  if (bytes.length !== expected) {
    throw new InvalidInput(`unpackCounts: ${n} values of ${width} bits need ${expected} bytes, got ${bytes.length}`);
  }
  const values = new Array<number>(n);
  const mod = 2 ** width;
  const small = width <= 24; // then acc holds at most 31 bits: 32-bit integer operations are exact
  let acc = 0;
  let bits = 0;
  let pos = cursor.pos;
  for (let i = 0; i < n; i++) {
    while (bits < width) {
      acc = small ? acc | (bytes[pos++] << bits) : acc + bytes[pos++] * 2 ** bits;
      bits += 8;
    }
    const z = small ? acc & (mod - 1) : acc % mod;
    acc = small ? acc >>> width : Math.floor(acc / mod);
    bits -= width;
    const v = base + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
    if (v < 0 || !Number.isSafeInteger(v)) throw new InvalidInput(`unpackCounts: value at index ${i} decodes to ${v}`);
    values[i] = v;
  }
  return values;
}

/** writeVarint writes a non-negative safe integer as an unsigned LEB128 varint at `pos` and returns the end. */
export function writeVarint(out: Uint8Array, pos: number, value: number): number {
  // Division instead of bit shifts: values may exceed 2^31.
  let v = value;
  while (v >= 0x80) {
    out[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[pos++] = v;
  return pos;
}

function readVarint(bytes: Uint8Array, cursor: { pos: number }): number {
  let value = 0;
  let scale = 1;
  for (let shift = 0; shift < 64; shift += 7) {
    if (cursor.pos >= bytes.length) throw new InvalidInput("unpackCounts: truncated varint");
    const b = bytes[cursor.pos++];
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (!Number.isSafeInteger(value)) throw new InvalidInput("unpackCounts: value exceeds 2^53");
      return value;
    }
    scale *= 0x80;
  }
  throw new InvalidInput("unpackCounts: varint longer than 10 bytes");
}
