import { describe, expect, it } from "vitest";
import { dropsAtCapacity } from "./dropsAtCapacity";

describe("dropsAtCapacity", () => {
  it.each([
    {
      // C = ceil(100*2/4 * 1.0) = 50; expert 0 drops 80-50 = 30; fraction 30/(100*2) = 0.15
      name: "one micro-batch, one hot expert",
      args: [[80, 40, 40, 40], 100, 2, 1.0, 1] as const,
      want: { capacityPerMicroBatch: 50, capacityPerExpert: 50, dropped: 30, dropFraction: 0.15, estimate: false, perExpertDropped: [30, 0, 0, 0] },
    },
    {
      // 2 micro-batches of 50 tokens: C = ceil(50*2/4 * 1.0) = 25, limit 2*25 = 50 -> same 30 dropped, but an estimate
      name: "two micro-batches: m*C and an estimate",
      args: [[80, 40, 40, 40], 100, 2, 1.0, 2] as const,
      want: { capacityPerMicroBatch: 25, capacityPerExpert: 50, dropped: 30, dropFraction: 0.15, estimate: true, perExpertDropped: [30, 0, 0, 0] },
    },
    {
      // C = ceil(200*2/8 * 1.1) = ceil(55.000000000000007) = 56; only 70 exceeds: 14 dropped; 14/400 = 0.035
      name: "cf 1.1 uses Megatron's rounding (C = 56)",
      args: [[70, 56, 50, 50, 50, 50, 40, 34], 200, 2, 1.1, 1] as const,
      want: { capacityPerMicroBatch: 56, capacityPerExpert: 56, dropped: 14, dropFraction: 0.035, estimate: false, perExpertDropped: [14, 0, 0, 0, 0, 0, 0, 0] },
    },
    {
      // C = ceil(100*2/4 * 2.0) = 100 >= every count
      name: "no drops at a generous factor",
      args: [[80, 40, 40, 40], 100, 2, 2.0, 1] as const,
      want: { capacityPerMicroBatch: 100, capacityPerExpert: 100, dropped: 0, dropFraction: 0, estimate: false, perExpertDropped: [0, 0, 0, 0] },
    },
  ])("$name", ({ args, want }) => {
    const [counts, t, k, cf, m] = args;
    const got = dropsAtCapacity([...counts], t, k, cf, m);
    expect(got).toEqual({ ...want, dropFraction: got.dropFraction });
    expect(got.dropFraction).toBeCloseTo(want.dropFraction, 15);
  });

  it("rejects counts with a negative entry", () => {
    expect(() => dropsAtCapacity([1, -2], 10, 1, 1, 1)).toThrow(/countsBeforeDrop\[1\] is -2/);
  });
});
