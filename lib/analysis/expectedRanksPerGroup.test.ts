import { describe, expect, it } from "vitest";
import { expectedRanksPerGroup } from "./expectedRanksPerGroup";
import { mixtral8x22b, mixtral8x7b } from "./testdata/configs";

describe("expectedRanksPerGroup", () => {
  it.each([
    // EP 8 x ETP 1
    { name: "Mixtral 8x7B", config: mixtral8x7b, world: 64, want: 8 },
    // EP 2 x ETP (= TP) 4
    { name: "Mixtral 8x22B", config: mixtral8x22b, world: 128, want: 8 },
  ])("$name", ({ config, world, want }) => {
    expect(expectedRanksPerGroup(config, world)).toBe(want);
  });

  it("rejects a world that does not fit ETP*EP*PP", () => {
    expect(() => expectedRanksPerGroup(mixtral8x7b, 8)).toThrow(/world size 8 is not divisible by ETP\*EP\*PP = 32/);
  });
});
