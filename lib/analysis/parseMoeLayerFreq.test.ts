import { describe, expect, it } from "vitest";
import { InvalidInput } from "./errors";
import { moeLayerNumbers, parseMoeLayerFreq } from "./parseMoeLayerFreq";
import type { RunConfig } from "./types";

/** "1" = MoE, "0" = dense: compact expected patterns. */
const bits = (s: string): boolean[] => [...s].map((c) => c === "1");

describe("parseMoeLayerFreq", () => {
  const cases: Array<{ name: string; spec: string | number | undefined; layers: number; want: string }> = [
    { name: "undefined means every layer (Megatron default 1)", spec: undefined, layers: 4, want: "1111" },
    { name: "int 1", spec: 1, layers: 3, want: "111" },
    // i % 2 == 0 for i = 0..5 -> layers 0, 2, 4
    { name: "int 2: every other layer from layer 0", spec: 2, layers: 6, want: "101010" },
    // i % 3 == 0 for i = 0..6 -> 0, 3, 6
    { name: "string '3' is an int", spec: "3", layers: 7, want: "1001001" },
    { name: "plain list", spec: "[1,0,1,0]", layers: 4, want: "1010" },
    // [0] + [1]*23 = 1 dense then 23 MoE (DeepSeek-style first dense layer)
    { name: "seed example ([0]+[1]*23)", spec: "([0]+[1]*23)", layers: 24, want: "0" + "1".repeat(23) },
    // ([1,1,1] + [0,0]) * 2
    { name: "seed example ([1]*3+[0]*2)*2", spec: "([1]*3+[0]*2)*2", layers: 10, want: "1110011100" },
    // Megatron help text: ([1]*3+[0]*1)*3 gives [1,1,1,0,1,1,1,0,1,1,1,0]
    { name: "help example ([1]*3+[0]*1)*3", spec: "([1]*3+[0]*1)*3", layers: 12, want: "111011101110" },
    // * binds tighter than +: [1] + ([0]*2) = [1,0,0]
    { name: "precedence * over +", spec: "[1]+[0]*2", layers: 3, want: "100" },
    // int * list works in Python: 2*[1,0] = [1,0,1,0]
    { name: "int times list", spec: "2*[1,0]", layers: 4, want: "1010" },
    // [1]*2**2 = [1]*4 (** binds tighter than *)
    { name: "power binds tighter than *", spec: "[1]*2**2", layers: 4, want: "1111" },
    // [0]*(1+1) + [1]: arithmetic inside parentheses
    { name: "integer arithmetic in parentheses", spec: "[0]*(1+1)+[1]", layers: 3, want: "001" },
    { name: "trailing comma in list", spec: "[1,0,]", layers: 2, want: "10" },
    // [1]*0 is [] in Python
    { name: "repeat zero times is empty", spec: "[1]*0+[0,1]", layers: 2, want: "01" },
    { name: "whitespace tolerated", spec: " ( [0] + [1] * 3 ) ", layers: 4, want: "0111" },
  ];
  it.each(cases)("$name", ({ spec, layers, want }) => {
    expect(parseMoeLayerFreq(spec, layers)).toEqual(bits(want));
  });

  const bad: Array<{ name: string; spec: string | number; layers: number; message: RegExp }> = [
    {
      name: "length mismatch names both lengths",
      spec: "([0]+[1]*23)",
      layers: 32,
      message: /moe_layer_freq "\(\[0\]\+\[1\]\*23\)" has 24 entries but num_layers is 32/,
    },
    { name: "no eval of names", spec: "[__import__('os')]", layers: 1, message: /character "_" at position 1 is not allowed/ },
    { name: "minus is not allowed (as in Megatron)", spec: "[1]*-1", layers: 1, message: /character "-"/ },
    { name: "element other than 0/1", spec: "[1,2]", layers: 2, message: /element 1 is 2, expected 0 \(dense\) or 1 \(MoE\)/ },
    { name: "list times list", spec: "[1]*[2]", layers: 1, message: /cannot multiply a list by a list/ },
    { name: "int plus list", spec: "1+[1]", layers: 2, message: /cannot add int and list/ },
    { name: "tuple", spec: "([1],)", layers: 1, message: /tuples are not layer patterns/ },
    { name: "unbalanced bracket", spec: "[1,0", layers: 2, message: /unclosed "\["/ },
    { name: "leading zero like Python 3", spec: "[01]", layers: 1, message: /leading zeros/ },
    { name: "nested list element", spec: "[[1]]", layers: 1, message: /element 0 is a list/ },
    { name: "huge repeat is capped", spec: "[1]*10**9", layers: 1, message: /longer than 1000000/ },
    { name: "N = 0", spec: 0, layers: 4, message: /positive integer N/ },
    { name: "garbage string", spec: "every other", layers: 4, message: /expected an integer N or a list expression/ },
  ];
  it.each(bad)("rejects: $name", ({ spec, layers, message }) => {
    let caught: unknown;
    try {
      parseMoeLayerFreq(spec, layers);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidInput);
    expect((caught as InvalidInput).field).toBe("moe_layer_freq");
    expect((caught as Error).message).toMatch(message);
  });
});

describe("moeLayerNumbers", () => {
  it("is empty when the MoE layout is unknown (an import without arguments)", () => {
    expect(moeLayerNumbers({ num_layers: 0, num_experts: 0, moe_router_topk: 0, tensor_model_parallel_size: 1, pipeline_model_parallel_size: 1, context_parallel_size: 1, expert_model_parallel_size: 1 })).toEqual([]);
  });

  const base: RunConfig = {
    num_layers: 6,
    num_experts: 8,
    moe_router_topk: 2,
    tensor_model_parallel_size: 1,
    pipeline_model_parallel_size: 1,
    context_parallel_size: 1,
    expert_model_parallel_size: 1,
  };
  const cases: Array<{ name: string; freq: string | undefined; want: number[] }> = [
    { name: "all layers, 1-based", freq: undefined, want: [1, 2, 3, 4, 5, 6] },
    // 0-based 0,2,4 -> 1-based 1,3,5
    { name: "every other layer", freq: "2", want: [1, 3, 5] },
    // [0,1,1,1,1,1]: first layer dense
    { name: "first layer dense", freq: "([0]+[1]*5)", want: [2, 3, 4, 5, 6] },
  ];
  it.each(cases)("$name", ({ freq, want }) => {
    expect(moeLayerNumbers({ ...base, moe_layer_freq: freq })).toEqual(want);
  });
});
