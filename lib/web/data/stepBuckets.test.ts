import { describe, expect, it } from "vitest";
import { emptyBucket, foldPoint, meanOf, meanOverLayers, mergeBucket, type AggregatePoint, type BucketStats } from "../../store/bucketStats";
import { blockOf, COARSE_STEPS, ROLLUP_STEPS } from "../../store/rollups";
import { bucketSizeFor } from "./stepBuckets";

const point = (step: number, maxVio: number | null, load: number[]): AggregatePoint => ({ layer: 1, step, tokens: 10, metrics: { maxVio }, load });

function foldAll(points: AggregatePoint[]): BucketStats {
  return points.reduce((b, p) => foldPoint(b, p), emptyBucket(1, 0));
}

describe("foldPoint / mergeBucket", () => {
  const cases: Array<{ name: string; points: AggregatePoint[]; max: number | null; min: number | null; mean: number | null; loadMax: number[]; loadMin: number[] }> = [
    {
      name: "a one-step spike inside a bucket is the bucket's max",
      points: [point(1, 0.1, [5, 5]), point(2, 3.5, [50, 1]), point(3, 0.2, [6, 4])],
      max: 3.5,
      min: 0.1,
      mean: (0.1 + 3.5 + 0.2) / 3,
      loadMax: [50, 5],
      loadMin: [5, 1],
    },
    {
      name: "a one-step dip is the bucket's min",
      points: [point(1, 0.5, [5, 5]), point(2, -0.25, [0, 9]), point(3, 0.4, [5, 5])],
      max: 0.5,
      min: -0.25,
      mean: (0.5 - 0.25 + 0.4) / 3,
      loadMax: [5, 9],
      loadMin: [0, 5],
    },
    {
      name: "null values are skipped, not counted as zero",
      points: [point(1, null, [1, 1]), point(2, 2, [1, 1])],
      max: 2,
      min: 2,
      mean: 2,
      loadMax: [1, 1],
      loadMin: [1, 1],
    },
    {
      name: "all null: no value at all",
      points: [point(1, null, [3, 0])],
      max: null,
      min: null,
      mean: null,
      loadMax: [3, 0],
      loadMin: [3, 0],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const b = foldAll(c.points);
      expect(b.steps).toBe(c.points.length);
      expect(b.firstStep).toBe(1);
      expect(b.lastStep).toBe(c.points.length);
      expect(b.tokens).toBe(10 * c.points.length);
      expect(b.metrics.maxVio?.max ?? null).toBe(c.max);
      expect(b.metrics.maxVio?.min ?? null).toBe(c.min);
      const mean = meanOf(b.metrics.maxVio);
      if (c.mean === null) expect(mean).toBeNull();
      else expect(mean).toBeCloseTo(c.mean, 12);
      expect(b.loadMax).toEqual(c.loadMax);
      expect(b.loadMin).toEqual(c.loadMin);
    });

    it(`${c.name}, split into two partial buckets and merged`, () => {
      for (let cut = 1; cut < c.points.length; cut++) {
        const merged = mergeBucket(foldAll(c.points.slice(0, cut)), foldAll(c.points.slice(cut)));
        const whole = foldAll(c.points);
        expect(merged).toEqual(whole);
      }
    });
  }

  it("merging an empty bucket changes nothing", () => {
    const b = foldAll([point(4, 1, [2, 3])]);
    const copy = structuredClone(b);
    expect(mergeBucket(b, emptyBucket(1, 0))).toEqual(copy);
  });
});

describe("bucketSizeFor", () => {
  const cases: Array<[from: number, to: number, maxPoints: number, size: number]> = [
    [1, 100, 200, 1], // fits: raw steps
    [1, 1000, 400, 3],
    [1, 6300, 200, 32], // half a rollup block: not rounded
    [1, 6400, 200, 64], // 32 would straddle 201 aligned buckets; 33 rounds up to a whole block
    [1, 40, 10, 5], // 4 would straddle 11 aligned buckets (0-3, ..., 40-43)
    [1, 6600, 200, 64], // 33 rounds up to a whole block
    [1, 100_000, 240, 512], // 417 is above half a coarse block: one coarse block (512)
    [0, 25_599, 100, 256], // half a coarse block: whole 64-step blocks only
    [1, 25_700, 100, 512], // 257 rounds up to a whole coarse block
    [1, 100_000, 100, 1024], // 1000 -> 2 coarse blocks
    [0, 100_000, 200, 512],
    [5, 5, 10, 1],
  ];
  for (const [from, to, maxPoints, size] of cases) {
    it(`[${from}, ${to}] in ${maxPoints} points -> ${size} steps per bucket`, () => {
      const got = bucketSizeFor(from, to, maxPoints);
      expect(got).toBe(size);
      // Never more buckets than asked for; a rounded size keeps at least half of them.
      expect(Math.floor(to / got) - Math.floor(from / got) + 1).toBeLessThanOrEqual(maxPoints);
      if (got > ROLLUP_STEPS / 2) expect(got % ROLLUP_STEPS).toBe(0);
      if (got > COARSE_STEPS / 2) expect(got % COARSE_STEPS).toBe(0);
    });
  }
});

describe("blockOf", () => {
  it("puts steps 0..63 in block 0 and 64 in block 1 (boundaries)", () => {
    expect(blockOf(0)).toBe(0);
    expect(blockOf(63)).toBe(0);
    expect(blockOf(64)).toBe(1);
    expect(blockOf(100_000)).toBe(1562);
  });
});

describe("meanOverLayers", () => {
  const fold = (points: Array<[layer: number, step: number, z: number | null]>, size: number): BucketStats[] => {
    const out = new Map<string, BucketStats>();
    for (const [layer, step, z] of points) {
      const key = `${layer}/${Math.floor(step / size)}`;
      let b = out.get(key);
      if (!b) out.set(key, (b = emptyBucket(layer, Math.floor(step / size))));
      foldPoint(b, { layer, step, tokens: 1, metrics: { zLoss: z } });
    }
    return [...out.values()];
  };
  const cases: Array<{ name: string; points: Array<[number, number, number | null]>; size: number; want: Array<{ step: number; value: number; min: number; max: number }> }> = [
    {
      name: "one step per bucket: Megatron's per-step mean over the layers that reported",
      points: [[1, 1, 10], [2, 1, 12], [3, 1, null], [1, 2, 11], [2, 2, 13], [3, 2, 15]],
      size: 1,
      want: [{ step: 1, value: 11, min: 11, max: 11 }, { step: 2, value: 13, min: 13, max: 13 }],
    },
    {
      name: "several steps per bucket: mean of the means, band enclosing every per-step mean (the spike at step 3)",
      points: [[1, 2, 10], [2, 2, 12], [1, 3, 30], [2, 3, 12]],
      size: 2,
      // per-step means 11 and 21; layer 1 min..max 10..30, layer 2 12..12 -> band 11..21
      want: [{ step: 2, value: 16, min: 11, max: 21 }],
    },
    { name: "no values: no points", points: [[1, 1, null]], size: 1, want: [] },
  ];
  it.each(cases)("$name", ({ points, size, want }) => {
    expect(meanOverLayers(fold(points, size), "zLoss")).toEqual(want);
  });
});
