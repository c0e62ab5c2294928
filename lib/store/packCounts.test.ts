import { describe, expect, it } from "vitest";
import { packCounts, unpackCounts } from "./packCounts";

describe("packCounts", () => {
  const cases: Array<{ name: string; values: number[]; bytes: number[] }> = [
    { name: "empty vector", values: [], bytes: [1, 0] },
    { name: "small counts take one byte each", values: [0, 1, 127], bytes: [1, 3, 0, 1, 127] },
    // 128 = 0b1_0000000 -> low 7 bits 0 with continuation, then 1
    { name: "128 takes two bytes", values: [128], bytes: [1, 1, 0x80, 0x01] },
    // 300 = 2*128 + 44 -> 44|0x80 = 0xac, then 2
    { name: "300", values: [300], bytes: [1, 1, 0xac, 0x02] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(Array.from(packCounts(c.values))).toEqual(c.bytes);
      expect(unpackCounts(Uint8Array.from(c.bytes))).toEqual(c.values);
    });
  }

  it("round-trips values beyond 32 bits", () => {
    const values = [2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
    expect(unpackCounts(packCounts(values))).toEqual(values);
  });

  it("packs counts scattered around their mean as bit-packed deltas, shorter than varints", () => {
    // Mean 16384: deltas within +-2600 fit 13 bits (zigzag < 8192): 8 x 13 bits = 13 bytes + 6 of header.
    const values = [18069, 16965, 16771, 16660, 15785, 15667, 13964, 17191];
    const bytes = packCounts(values);
    expect(bytes[0]).toBe(2);
    expect(bytes.length).toBeLessThan(1 + 1 + 3 * values.length);
    expect(unpackCounts(bytes)).toEqual(values);
  });

  it("round-trips random vectors of every size in whichever format is shorter", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 500; trial++) {
      const n = Math.floor(rand() * 300);
      const scale = 2 ** Math.floor(rand() * 40);
      const center = Math.floor(rand() * scale);
      const values = Array.from({ length: n }, () => Math.max(0, center + Math.floor((rand() - 0.5) * scale * rand())));
      const bytes = packCounts(values);
      expect(unpackCounts(bytes)).toEqual(values);
    }
    // Equal values: zero-width deltas, header only.
    expect(Array.from(packCounts([5000, 5000, 5000, 5000]))).toEqual([2, 4, 0x88, 0x27, 0]);
  });

  it("still reads varint rows written before format 2", () => {
    expect(unpackCounts(Uint8Array.from([1, 2, 0xac, 0x02, 0x80, 0x01]))).toEqual([300, 128]);
  });

  it("rejects negative, fractional and NaN values naming the index", () => {
    expect(() => packCounts([1, -1])).toThrow(/index 1 is -1/);
    expect(() => packCounts([1.5])).toThrow(/index 0 is 1.5/);
    expect(() => packCounts([Number.NaN])).toThrow(/index 0 is NaN/);
  });

  it("names corrupt input", () => {
    expect(() => unpackCounts(new Uint8Array())).toThrow(/empty/);
    expect(() => unpackCounts(Uint8Array.from([9, 0]))).toThrow(/format byte 9/);
    expect(() => unpackCounts(Uint8Array.from([1, 2, 5]))).toThrow(/truncated/);
    expect(() => unpackCounts(Uint8Array.from([1, 1, 5, 6]))).toThrow(/1 trailing bytes/);
    expect(() => unpackCounts(Uint8Array.from([2, 2, 10]))).toThrow(/bit width/);
    expect(() => unpackCounts(Uint8Array.from([2, 2, 10, 31, 0]))).toThrow(/exceeds 30/);
    expect(() => unpackCounts(Uint8Array.from([2, 2, 10, 8, 1]))).toThrow(/need 6 bytes, got 5/);
    expect(() => unpackCounts(Uint8Array.from([2, 1, 0, 4, 3]))).toThrow(/decodes to -2/);
  });
});
