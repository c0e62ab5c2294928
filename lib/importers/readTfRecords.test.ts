import { describe, expect, it } from "vitest";
import { crc32c, createTfRecordReader, maskCrc32c, type TfRecordReader } from "./readTfRecords";
import { concat, crc32cBitwise, frameRecord, maskedCrc } from "./testdata/tfrecordWriter";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function readAll(reader: TfRecordReader, chunks: Uint8Array[]): string[] {
  return chunks.flatMap((c) => reader.push(c)).map(dec);
}

function splitEvery(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

describe("crc32c", () => {
  // RFC 3720 (iSCSI) appendix B.4 test vectors and the common "123456789" check value.
  const cases: Array<{ name: string; data: Uint8Array; crc: number }> = [
    { name: "123456789", data: enc("123456789"), crc: 0xe3069283 },
    { name: "32 zero bytes", data: new Uint8Array(32), crc: 0x8a9136aa },
    { name: "32 0xff bytes", data: new Uint8Array(32).fill(0xff), crc: 0x62a8ab43 },
    { name: "bytes 0..31", data: Uint8Array.from({ length: 32 }, (_, i) => i), crc: 0x46dd794e },
    { name: "empty", data: new Uint8Array(0), crc: 0 },
  ];
  it.each(cases)("$name", ({ data, crc }) => {
    expect(crc32c(data)).toBe(crc);
    expect(crc32cBitwise(data)).toBe(crc);
  });

  it("masks as TFRecord does", () => {
    for (const data of [enc("123456789"), new Uint8Array(8), enc("brain.Event:2")]) {
      expect(maskCrc32c(crc32c(data))).toBe(maskedCrc(data));
    }
    // rotate-right 15 of 0xe3069283 is 0x2507c60d, plus 0xa282ead8 wraps to 0xc78ab0e5.
    expect(maskCrc32c(0xe3069283)).toBe(0xc78ab0e5);
  });
});

describe("createTfRecordReader", () => {
  const payloads = ["first record", "", "third record, a bit longer than the others".repeat(5)];
  const file = concat(payloads.map((p) => frameRecord(enc(p))));
  const offsets = [0, 12 + 12 + 4, 12 + 12 + 4 + 16];

  const cases: Array<{ name: string; chunks: Uint8Array[] }> = [
    { name: "one chunk", chunks: [file] },
    { name: "1-byte chunks", chunks: splitEvery(file, 1) },
    { name: "7-byte chunks (splits headers and data)", chunks: splitEvery(file, 7) },
    { name: "split inside the length CRC", chunks: [file.slice(0, 10), file.slice(10)] },
    { name: "empty chunks in between", chunks: [new Uint8Array(0), file.slice(0, 30), new Uint8Array(0), file.slice(30)] },
  ];
  it.each(cases)("reads every record: $name", ({ chunks }) => {
    const reader = createTfRecordReader();
    expect(readAll(reader, chunks)).toEqual(payloads);
    expect(reader.finish()).toEqual({ records: 3, bytes: file.length, problems: [], fatal: null, truncatedTail: null });
  });

  it("skips a record whose data CRC is wrong and continues after it", () => {
    const bad = file.slice();
    bad[offsets[2] + 12 + 3] ^= 0x01; // flip a bit in the third record's data
    const bad2 = file.slice();
    bad2[offsets[0] + 12] ^= 0x40; // and in the first record's data
    for (const [bytes, lost, offset] of [[bad, 2, offsets[2]], [bad2, 0, offsets[0]]] as const) {
      const reader = createTfRecordReader();
      expect(readAll(reader, splitEvery(bytes, 5))).toEqual(payloads.filter((_, i) => i !== lost));
      const s = reader.finish();
      expect(s.records).toBe(2);
      expect(s.problems).toEqual([{ offset, reason: "data CRC mismatch: record skipped" }]);
      expect(s.fatal).toBeNull();
    }
  });

  it("stops with an error when a length CRC is wrong", () => {
    const bad = file.slice();
    bad[offsets[1] + 9] ^= 0xff; // the second record's length CRC
    const reader = createTfRecordReader();
    expect(readAll(reader, [bad.slice(0, 40), bad.slice(40)])).toEqual([payloads[0]]);
    expect(reader.push(frameRecord(enc("after the stop")))).toEqual([]);
    const s = reader.finish();
    expect(s.records).toBe(1);
    expect(s.fatal?.offset).toBe(offsets[1]);
    expect(s.fatal?.reason).toMatch(/length CRC mismatch/);
    expect(s.truncatedTail).toBeNull();
  });

  it("stops when a length passes its CRC but exceeds the limit", () => {
    const reader = createTfRecordReader({ maxRecordBytes: 20 });
    expect(readAll(reader, [file])).toEqual([payloads[0], payloads[1]]);
    expect(reader.finish().fatal).toEqual({ offset: offsets[2], reason: expect.stringMatching(/exceeds the 20-byte limit/) });
  });

  it("reports a truncated trailing record inside the data", () => {
    const reader = createTfRecordReader();
    const cut = file.slice(0, offsets[2] + 12 + 10);
    expect(readAll(reader, [cut])).toEqual([payloads[0], payloads[1]]);
    expect(reader.finish().truncatedTail).toEqual({
      offset: offsets[2],
      bytesPresent: 22,
      bytesExpected: 12 + payloads[2].length + 4,
    });
  });

  it("reports a truncated trailing record inside the header", () => {
    const reader = createTfRecordReader();
    expect(readAll(reader, [file.slice(0, offsets[1] + 5)])).toEqual([payloads[0]]);
    expect(reader.finish().truncatedTail).toEqual({ offset: offsets[1], bytesPresent: 5, bytesExpected: null });
  });
});
