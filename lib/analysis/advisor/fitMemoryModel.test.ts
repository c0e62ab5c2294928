import { describe, expect, it } from "vitest";
import { fitMemoryModel } from "./fitMemoryModel";
import type { MemoryObservation } from "./types";

const samples = (points: Array<[received: number, peak: number]>): MemoryObservation[] =>
  points.map(([receivedTokens, peakAllocatedBytes], i) => ({ rank: i, step: 100, receivedTokens, peakAllocatedBytes }));

describe("fitMemoryModel", () => {
  it("recovers an exact line", () => {
    // peak = 10 GiB + 64 KiB per token
    const pts = [1000, 2000, 4000, 8000].map((x): [number, number] => [x, 10 * 2 ** 30 + 65536 * x]);
    const m = fitMemoryModel(samples(pts), 4);
    expect(m).not.toBeNull();
    expect(m!.bytesPerToken).toBeCloseTo(65536, 6);
    expect(m!.baseBytes).toBeCloseTo(10 * 2 ** 30, 0);
    expect(m!.r2).toBeCloseTo(1, 12);
    expect(m!.rmsErrorBytes).toBeLessThan(1e-3);
    expect(m!.samples).toBe(4);
  });

  it("fits a noisy case as computed by hand", () => {
    // means 1.5, 2.5; Sxx 5, Sxy 4 -> slope 0.8, base 1.3; residuals -0.3 0.9 -0.9 0.3 -> SSres 1.8; SStot 5
    const m = fitMemoryModel(samples([[0, 1], [1, 3], [2, 2], [3, 4]]), 4)!;
    expect(m.bytesPerToken).toBeCloseTo(0.8, 12);
    expect(m.baseBytes).toBeCloseTo(1.3, 12);
    expect(m.r2).toBeCloseTo(1 - 1.8 / 5, 12);
    expect(m.rmsErrorBytes).toBeCloseTo(Math.sqrt(1.8 / 4), 12);
  });

  const none = [
    { name: "fewer samples than the minimum", pts: [[1, 1], [2, 2], [3, 3]] as Array<[number, number]>, min: 20 },
    { name: "received never varies", pts: [[5, 1], [5, 2], [5, 3], [5, 4]] as Array<[number, number]>, min: 4 },
    { name: "no samples", pts: [] as Array<[number, number]>, min: 0 },
  ];
  for (const c of none) it(`returns null with ${c.name}`, () => expect(fitMemoryModel(samples(c.pts), c.min)).toBeNull());

  it("defaults to 20 samples", () => {
    const pts = Array.from({ length: 19 }, (_, i): [number, number] => [i, 2 * i]);
    expect(fitMemoryModel(samples(pts))).toBeNull();
    expect(fitMemoryModel(samples([...pts, [19, 38]]))?.bytesPerToken).toBeCloseTo(2, 12);
  });

  it("rejects negative memory", () => {
    expect(() => fitMemoryModel(samples([[1, -1]]), 1)).toThrow(/peakAllocatedBytes is -1/);
  });
});
