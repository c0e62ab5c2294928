import { describe, expect, it } from "vitest";
import { megatronCapacity } from "./megatronCapacity";

describe("megatronCapacity", () => {
  it.each([
    // T*k/E = 200*2/8 = 50; 50 * 1.1 = 55.000000000000007 in doubles -> ceil = 56 (DESIGN's example), not 55
    { name: "DESIGN example: rounding up past 55", t: 200, k: 2, e: 8, cf: 1.1, want: 56 },
    // 50 * 1.0 = 50
    { name: "cf 1.0 is the fair share", t: 200, k: 2, e: 8, cf: 1.0, want: 50 },
    // 4096*2/8 = 1024; * 1.25 = 1280
    { name: "Mixtral-like micro-batch", t: 4096, k: 2, e: 8, cf: 1.25, want: 1280 },
    // 100*1/3 = 33.33; ceil -> 34
    { name: "fractional fair share rounds up", t: 100, k: 1, e: 3, cf: 1.0, want: 34 },
    // 4096*8/256 = 128; * 1.5 = 192
    { name: "E=256 top-8", t: 4096, k: 8, e: 256, cf: 1.5, want: 192 },
    { name: "cf 0 keeps nothing", t: 100, k: 2, e: 4, cf: 0, want: 0 },
  ])("$name", ({ t, k, e, cf, want }) => {
    expect(megatronCapacity(t, k, e, cf)).toBe(want);
  });

  it.each([
    { name: "negative tokens", args: [-1, 2, 8, 1] as const, message: /tokensLocal must be a finite number >= 0, got -1/ },
    { name: "zero experts", args: [10, 2, 0, 1] as const, message: /num_experts must be an integer >= 1, got 0/ },
    { name: "negative cf", args: [10, 2, 8, -1] as const, message: /moe_expert_capacity_factor must be a finite number >= 0, got -1/ },
  ])("rejects $name", ({ args, message }) => {
    expect(() => megatronCapacity(args[0], args[1], args[2], args[3])).toThrow(message);
  });
});
