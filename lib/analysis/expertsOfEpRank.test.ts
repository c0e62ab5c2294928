import { describe, expect, it } from "vitest";
import { expertsOfEpRank } from "./expertsOfEpRank";

describe("expertsOfEpRank", () => {
  it.each([
    // E/EP = 2 experts per rank: rank 0 -> [0, 2), rank 3 -> [6, 8)
    { epRank: 0, e: 8, ep: 4, want: [0, 2] },
    { epRank: 3, e: 8, ep: 4, want: [6, 8] },
    // 256/8 = 32 per rank: rank 7 -> [224, 256)
    { epRank: 7, e: 256, ep: 8, want: [224, 256] },
    { epRank: 0, e: 64, ep: 1, want: [0, 64] },
  ])("EP rank $epRank of $ep with $e experts", ({ epRank, e, ep, want }) => {
    expect(expertsOfEpRank(epRank, e, ep)).toEqual(want);
  });

  it.each([
    { name: "rank out of range", args: [4, 8, 4] as const, message: "EP rank 4 is outside 0..3" },
    { name: "experts not divisible", args: [0, 8, 3] as const, message: "num_experts 8 is not divisible by expert_model_parallel_size 3" },
  ])("rejects $name", ({ args, message }) => {
    expect(() => expertsOfEpRank(args[0], args[1], args[2])).toThrow(message);
  });
});
