import { describe, expect, it } from "vitest";
import { paddedReceived } from "./paddedReceived";

describe("paddedReceived", () => {
  it.each([
    {
      // C = ceil(4096*2/8 * 1.0) = 1024; per local expert 1 * 1024 * ETP 1 * EP 8 = 8192; E/EP = 1 expert per rank
      name: "Mixtral 8x7B-like EP8",
      args: { tokensLocal: 4096, topk: 2, numExperts: 8, capacityFactor: 1.0, microBatches: 1, ep: 8, etp: 1 },
      want: { capacityPerMicroBatch: 1024, perLocalExpert: 8192, perEpRank: Array<number>(8).fill(8192) },
    },
    {
      // 2 micro-batches of 1024 tokens: C = ceil(1024*2/8 * 1.25) = 320; per local expert 2*320*2*4 = 5120; 2 experts per rank -> 10240
      name: "ETP2 EP4, two micro-batches",
      args: { tokensLocal: 2048, topk: 2, numExperts: 8, capacityFactor: 1.25, microBatches: 2, ep: 4, etp: 2 },
      want: { capacityPerMicroBatch: 320, perLocalExpert: 5120, perEpRank: [10240, 10240, 10240, 10240] },
    },
  ])("$name", ({ args, want }) => {
    expect(paddedReceived(args)).toEqual(want);
  });

  it("rejects experts not divisible by EP", () => {
    expect(() =>
      paddedReceived({ tokensLocal: 10, topk: 1, numExperts: 8, capacityFactor: 1, microBatches: 1, ep: 3, etp: 1 }),
    ).toThrow("num_experts 8 is not divisible by expert_model_parallel_size 3");
  });
});
