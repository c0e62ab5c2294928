/**
 * Test-only writers for TFRecord framing and the protobuf messages of TensorBoard events, written
 * independently of the reader (bit-by-bit CRC, BigInt masking) so a shared bug cannot hide.
 */

/** crc32cBitwise: CRC32C computed one bit at a time, straight from the polynomial definition. */
export function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** maskedCrc: TFRecord's masked CRC, computed in BigInt arithmetic. */
export function maskedCrc(data: Uint8Array): number {
  const crc = BigInt(crc32cBitwise(data));
  const m = 0xffffffffn;
  const rotated = ((crc >> 15n) | (crc << 17n)) & m;
  return Number((rotated + 0xa282ead8n) & m);
}

/** frameRecord: one TFRecord (length, masked length CRC, data, masked data CRC). */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc(data), true);
  return out;
}

/** concat: join byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** varint: protobuf base-128 varint of a non-negative integer (or a negative one as 10-byte two's complement). */
export function varint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Uint8Array.from(out);
}

/** pb: protobuf field encoders. */
export const pb = {
  key: (field: number, wire: number): Uint8Array => varint(field * 8 + wire),
  varintField: (field: number, value: number | bigint): Uint8Array => concat([pb.key(field, 0), varint(value)]),
  doubleField: (field: number, value: number): Uint8Array => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    return concat([pb.key(field, 1), b]);
  },
  floatField: (field: number, value: number): Uint8Array => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return concat([pb.key(field, 5), b]);
  },
  bytesField: (field: number, data: Uint8Array): Uint8Array => concat([pb.key(field, 2), varint(data.length), data]),
  stringField: (field: number, s: string): Uint8Array => pb.bytesField(field, new TextEncoder().encode(s)),
  packedDoubles: (field: number, values: number[]): Uint8Array => {
    const b = new Uint8Array(8 * values.length);
    values.forEach((v, i) => new DataView(b.buffer).setFloat64(8 * i, v, true));
    return pb.bytesField(field, b);
  },
  packedFloats: (field: number, values: number[]): Uint8Array => {
    const b = new Uint8Array(4 * values.length);
    values.forEach((v, i) => new DataView(b.buffer).setFloat32(4 * i, v, true));
    return pb.bytesField(field, b);
  },
};

/** simpleValue: Summary.Value{tag, simple_value} as torch.utils.tensorboard writes it. */
export function simpleValue(tag: string, value: number): Uint8Array {
  return concat([pb.stringField(1, tag), pb.floatField(2, value)]);
}

/** tensorValue: Summary.Value{tag, tensor} with a TensorProto built from its fields. */
export function tensorValue(tag: string, tensor: Uint8Array[]): Uint8Array {
  return concat([pb.stringField(1, tag), pb.bytesField(8, concat(tensor))]);
}

/** event: Event{wall_time, step, summary{value...}} (or file_version when given). */
export function event(e: { wallTime?: number; step?: number | bigint; values?: Uint8Array[]; fileVersion?: string }): Uint8Array {
  const parts: Uint8Array[] = [];
  if (e.wallTime !== undefined) parts.push(pb.doubleField(1, e.wallTime));
  if (e.step !== undefined) parts.push(pb.varintField(2, e.step));
  if (e.fileVersion !== undefined) parts.push(pb.stringField(3, e.fileVersion));
  if (e.values) parts.push(pb.bytesField(5, concat(e.values.map((v) => pb.bytesField(1, v)))));
  return concat(parts);
}
