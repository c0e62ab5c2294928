/**
 * Packed encoding of non-negative integer vectors (tokens per expert, global load).
 *
 * Layout: one format byte, then the vector length as an unsigned LEB128 varint, then each value
 * as an unsigned LEB128 varint. Counts per expert per step are small (a few thousand), so most take
 * two bytes instead of four. The format byte leaves room for better encodings without a migration.
 */
import { InvalidInput } from "./errors";

const FORMAT_VARINT = 1;

/** packCounts encodes non-negative safe integers into the packed byte format. */
export function packCounts(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(1 + 10 * (values.length + 1));
  out[0] = FORMAT_VARINT;
  let pos = writeVarint(out, 1, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new InvalidInput(`packCounts: value at index ${i} is ${v}, expected a non-negative integer`);
    }
    pos = writeVarint(out, pos, v);
  }
  return out.subarray(0, pos);
}

/** unpackCounts decodes bytes written by packCounts, and names what is wrong with corrupt input. */
export function unpackCounts(bytes: Uint8Array): number[] {
  if (bytes.length === 0) throw new InvalidInput("unpackCounts: empty buffer");
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

function writeVarint(out: Uint8Array, pos: number, value: number): number {
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
