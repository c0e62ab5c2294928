import { describe, expect, it } from "vitest";
import { Rng } from "./rng";
import { EXACT_TOKEN_LIMIT, sampleExpertCounts, softmaxInto, topkInclusion } from "./routerSampling";

function randomProbs(rng: Rng, n: number, spread: number): Float64Array {
  const logits = Array.from({ length: n }, () => spread * rng.normal());
  const p = new Float64Array(n);
  softmaxInto(p, logits);
  return p;
}

describe("topkInclusion", () => {
  it("sums to k with every entry in [0, 1], capping the hot experts", () => {
    const rng = new Rng(1);
    for (const [n, k, spread] of [
      [8, 2, 0.1],
      [8, 2, 3],
      [64, 8, 2],
      [64, 1, 4],
      [4, 4, 2],
    ]) {
      const p = randomProbs(rng, n, spread);
      const pi = new Float64Array(n);
      topkInclusion(pi, p, k);
      expect(pi.reduce((a, b) => a + b, 0)).toBeCloseTo(k, 9);
      for (const v of pi) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    const pi = new Float64Array(4);
    topkInclusion(pi, Float64Array.from([0.7, 0.1, 0.1, 0.1]), 2);
    expect(Array.from(pi)).toEqual([1, 1 / 3, 1 / 3, 1 / 3].map((x) => expect.closeTo(x, 12)));
  });
});

describe("sampleExpertCounts", () => {
  it.each([
    { name: "token by token", tokens: EXACT_TOKEN_LIMIT },
    { name: "normal approximation", tokens: 65536 },
    { name: "a single token", tokens: 1 },
  ])("keeps sum = T*k and 0 <= c <= T: $name", ({ tokens }) => {
    const rng = new Rng(7);
    const counts = new Int32Array(8);
    for (let i = 0; i < 200; i++) {
      const k = 1 + (i % 3);
      const p = randomProbs(rng, 8, i % 2 === 0 ? 3 : 0.2);
      const pi = new Float64Array(8);
      topkInclusion(pi, p, k);
      sampleExpertCounts(counts, pi, tokens, k, rng);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(tokens * k);
      for (const c of counts) {
        expect(c).toBeGreaterThanOrEqual(0);
        expect(c).toBeLessThanOrEqual(tokens);
      }
    }
  });

  it("matches the inclusion probabilities on average", () => {
    const rng = new Rng(3);
    const pi = Float64Array.from([1, 0.5, 0.25, 0.25]);
    for (const tokens of [200, 20000]) {
      const sum = new Float64Array(4);
      const counts = new Int32Array(4);
      for (let i = 0; i < 100; i++) {
        sampleExpertCounts(counts, pi, tokens, 2, rng);
        counts.forEach((c, e) => (sum[e] += c / (100 * tokens)));
      }
      expect(sum[0]).toBeCloseTo(1, 9);
      expect(sum[1]).toBeCloseTo(0.5, 1);
      expect(sum[2]).toBeCloseTo(0.25, 1);
    }
  });
});
