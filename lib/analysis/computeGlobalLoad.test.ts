import { describe, expect, it } from "vitest";
import { computeGlobalLoad, countsTowardGlobalLoad } from "./computeGlobalLoad";
import { small, withConfig } from "./testdata/configs";
import type { RankCoords, RunConfig } from "./types";

const at = (tp: number, dp: number, cp = 0, pp = 0): RankCoords => ({ tp, cp, dp, pp, ep: 0, etp: 0, edp: 0 });
const fourExperts = withConfig(small, { num_experts: 4 });

describe("computeGlobalLoad", () => {
  const reports = [
    { coords: at(0, 0), tokensPerExpert: [1, 2, 3, 4] },
    { coords: at(1, 0), tokensPerExpert: [10, 20, 30, 40] },
    { coords: at(0, 1), tokensPerExpert: [100, 200, 300, 400] },
    { coords: at(1, 1), tokensPerExpert: [1000, 2000, 3000, 4000] },
  ];
  const cases: Array<{ name: string; config: RunConfig; reports: typeof reports; want: { load: number[]; rule: string; ranksCounted: number } }> = [
    {
      // SP: each TP rank routes its own sequence shard -> sum all four
      name: "TP2 with sequence parallel sums every TP rank",
      config: withConfig(fourExperts, { tensor_model_parallel_size: 2, sequence_parallel: true }),
      reports,
      want: { load: [1111, 2222, 3333, 4444], rule: "all-tp-ranks (sequence parallel)", ranksCounted: 4 },
    },
    {
      // no SP: TP ranks hold the same tokens -> tp 0 of dp 0 and dp 1: [1+100, 2+200, 3+300, 4+400]
      name: "TP2 without sequence parallel counts tp rank 0 only",
      config: withConfig(fourExperts, { tensor_model_parallel_size: 2, sequence_parallel: false }),
      reports,
      want: { load: [101, 202, 303, 404], rule: "tp-rank-0 only (no sequence parallel)", ranksCounted: 2 },
    },
    {
      // TP1: DP and CP ranks route distinct tokens: [1+10, 2+20, 3+30, 4+40] (tp=0, cp 0/1)
      name: "TP1 sums all ranks (CP and DP)",
      config: withConfig(fourExperts, { context_parallel_size: 2 }),
      reports: [
        { coords: at(0, 0, 0), tokensPerExpert: [1, 2, 3, 4] },
        { coords: at(0, 0, 1), tokensPerExpert: [10, 20, 30, 40] },
      ],
      want: { load: [11, 22, 33, 44], rule: "all ranks (TP=1)", ranksCounted: 2 },
    },
    {
      name: "no reports: zero load",
      config: fourExperts,
      reports: [],
      want: { load: [0, 0, 0, 0], rule: "all ranks (TP=1)", ranksCounted: 0 },
    },
  ];
  it.each(cases)("$name", ({ config, reports, want }) => {
    expect(computeGlobalLoad(reports, config)).toEqual(want);
  });

  it.each([
    { name: "wrong length", reports: [{ coords: at(0, 0), tokensPerExpert: [1, 2, 3] }], message: "reports[0].tokensPerExpert has 3 entries, expected 4" },
    {
      name: "two pipeline stages",
      reports: [
        { coords: at(0, 0, 0, 0), tokensPerExpert: [1, 1, 1, 1] },
        { coords: at(0, 1, 0, 1), tokensPerExpert: [1, 1, 1, 1] },
      ],
      message: "reports[1] is from pipeline stage 1, the others from stage 0: one layer lives on one stage",
    },
    {
      name: "duplicate rank",
      reports: [
        { coords: at(0, 1), tokensPerExpert: [1, 1, 1, 1] },
        { coords: at(0, 1), tokensPerExpert: [1, 1, 1, 1] },
      ],
      message: "two reports from the same rank (tp 0, cp 0, dp 1)",
    },
  ])("rejects $name", ({ reports, message }) => {
    expect(() => computeGlobalLoad(reports, fourExperts)).toThrow(message);
  });
});

describe("countsTowardGlobalLoad", () => {
  it.each([
    { name: "TP 1: every rank", config: withConfig(fourExperts, { tensor_model_parallel_size: 1 }), tp: 0, want: true },
    { name: "TP 2 with sequence parallel: tp rank 1 counts", config: withConfig(fourExperts, { tensor_model_parallel_size: 2, sequence_parallel: true }), tp: 1, want: true },
    { name: "TP 2 without sequence parallel: tp rank 0 counts", config: withConfig(fourExperts, { tensor_model_parallel_size: 2, sequence_parallel: false }), tp: 0, want: true },
    { name: "TP 2 without sequence parallel: tp rank 1 is a copy", config: withConfig(fourExperts, { tensor_model_parallel_size: 2, sequence_parallel: false }), tp: 1, want: false },
  ])("$name", ({ config, tp, want }) => {
    expect(countsTowardGlobalLoad(config, { tp })).toBe(want);
  });
});
