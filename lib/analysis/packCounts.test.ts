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
  });
});
