import { describe, expect, it } from "vitest";
import { packCounts, unpackCounts } from "./packCounts";
import { foldPackedMax } from "./packedMax";

/** The reference: unpackCounts, then a max with zeros past a shorter vector's end. */
function referenceMax(vectors: readonly number[][]): number[] {
  const out: number[] = [];
  for (const v of vectors) {
    const values = unpackCounts(packCounts(v));
    while (out.length < values.length) out.push(0);
    values.forEach((x, e) => (out[e] = Math.max(out[e], x)));
  }
  return out;
}

function folded(vectors: readonly number[][]): number[] {
  const into: number[] = [];
  for (const v of vectors) foldPackedMax(packCounts(v), into);
  return into;
}

// Deterministic pseudo-random integers.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe("foldPackedMax", () => {
  it("equals unpackCounts' values folded by max, for loads scattered around their mean (format 2, narrow)", () => {
    const r = rng(7);
    for (const experts of [2, 8, 64, 256]) {
      for (const mean of [3, 2_000, 16_000, 5_000_000]) {
        const vectors = Array.from({ length: 20 }, () => Array.from({ length: experts }, () => Math.round(mean * (0.9 + 0.2 * r()))));
        if (experts >= 8 && mean >= 2_000) expect(packCounts(vectors[0])[0]).toBe(2);
        expect(folded(vectors)).toEqual(referenceMax(vectors));
      }
    }
  });

  it("keeps a single-step spike and an all-equal vector (width 0)", () => {
    const vectors = [[100, 100, 100, 100], [90, 5_000, 80, 70], [0, 0, 0, 0]];
    expect(packCounts(vectors[0])[3]).toBe(0); // width byte: every value is the base
    expect(folded(vectors)).toEqual([100, 5_000, 100, 100]);
  });

  it("takes unpackCounts' path for varint vectors and deltas wider than 24 bits", () => {
    const wide = [[0, 2 ** 30, 5, 2 ** 26], [1, 2, 3, 2 ** 40]];
    const short = [[7], [3, 900_000_000]];
    expect(folded(wide)).toEqual(referenceMax(wide));
    expect(folded(short)).toEqual(referenceMax(short));
  });

  it("treats a shorter vector as zeros past its end, in either order", () => {
    const vectors = [[5, 6, 7, 8, 9, 10, 11, 12], [50, 60, 70, 80]];
    expect(folded(vectors)).toEqual([50, 60, 70, 80, 9, 10, 11, 12]);
    expect(folded([...vectors].reverse())).toEqual([50, 60, 70, 80, 9, 10, 11, 12]);
  });

  it("reports corrupt bytes as unpackCounts does", () => {
    const good = packCounts([2_000, 2_100, 1_900, 2_050]);
    expect(() => foldPackedMax(good.slice(0, good.length - 1), [])).toThrow(/need \d+ bytes/);
    expect(() => foldPackedMax(new Uint8Array([9, 1, 1]), [])).toThrow(/unknown format byte 9/);
    expect(() => foldPackedMax(new Uint8Array(0), [])).toThrow(/empty buffer/);
    // Format 2 whose base (1) minus a delta goes negative: n = 2, base = 1, width 4, zigzag codes 5 and 0 (-3, 0).
    expect(() => foldPackedMax(new Uint8Array([2, 2, 1, 4, 0x05]), [])).toThrow(/decodes to -2/);
  });
});
