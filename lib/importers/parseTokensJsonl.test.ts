import { describe, expect, it } from "vitest";
import { createTokensJsonlParser, parseTokensJsonlText } from "./parseTokensJsonl";

describe("parseTokensJsonl accepted spellings", () => {
  const cases: Array<{ name: string; line: object; want: object }> = [
    {
      name: "iteration/layer/rank/tokens_per_expert",
      line: { iteration: 12, layer: 3, rank: 0, tokens_per_expert: [5, 0, 3, 8] },
      want: { iteration: 12, layer: 3, rank: 0, tokensPerExpert: [5, 0, 3, 8] },
    },
    {
      name: "step/layer_number/global_rank/counts",
      line: { step: 7, layer_number: 1, global_rank: 17, counts: [1, 1, 1, 1] },
      want: { iteration: 7, layer: 1, rank: 17, tokensPerExpert: [1, 1, 1, 1] },
    },
    {
      name: "expert_counts without a rank",
      line: { iteration: 0, layer: 2, expert_counts: [0, 0, 0, 16] },
      want: { iteration: 0, layer: 2, tokensPerExpert: [0, 0, 0, 16] },
    },
    {
      name: "two spellings that agree",
      line: { iteration: 4, step: 4, layer: 1, tokens_per_expert: [1, 2, 3, 4] },
      want: { iteration: 4, layer: 1 },
    },
  ];
  it.each(cases)("$name", ({ line, want }) => {
    const p = createTokensJsonlParser();
    const r = p.push(JSON.stringify(line));
    expect(r).toMatchObject(want);
    expect(p.finish().skipped).toEqual([]);
  });

  it("converts 0-based layers when told the dump is 0-based", () => {
    const { records } = parseTokensJsonlText('{"iteration":1,"layer":0,"counts":[1,2]}', { layerBase: 0 });
    expect(records[0].layer).toBe(1);
  });
});

describe("parseTokensJsonl rejected lines", () => {
  const good = '{"iteration":1,"layer":1,"rank":0,"tokens_per_expert":[1,2,3,4]}';
  const cases: Array<{ name: string; line: string; reason: string }> = [
    { name: "not JSON", line: '{"iteration": 1, "layer"', reason: "not valid JSON" },
    { name: "array", line: "[1,2,3]", reason: "not a JSON object" },
    { name: "no iteration", line: '{"layer":1,"counts":[1,2,3,4]}', reason: "missing iteration (iteration/step/iter)" },
    { name: "negative iteration", line: '{"iteration":-1,"layer":1,"counts":[1,2,3,4]}', reason: "iteration is not a non-negative integer" },
    { name: "string iteration", line: '{"iteration":"5","layer":1,"counts":[1,2,3,4]}', reason: "iteration is not a non-negative integer" },
    { name: "conflicting spellings", line: '{"iteration":5,"step":6,"layer":1,"counts":[1,2,3,4]}', reason: "conflicting iteration keys (iteration, step)" },
    { name: "no layer", line: '{"iteration":5,"counts":[1,2,3,4]}', reason: "missing layer (layer/layer_number)" },
    { name: "layer 0 in a 1-based dump", line: '{"iteration":5,"layer":0,"counts":[1,2,3,4]}', reason: "layer 0 below the 1-based numbering (set layerBase)" },
    { name: "fractional rank", line: '{"iteration":5,"layer":1,"rank":0.5,"counts":[1,2,3,4]}', reason: "rank is not a non-negative integer" },
    { name: "no counts", line: '{"iteration":5,"layer":1}', reason: "missing counts (tokens_per_expert/counts/expert_counts)" },
    { name: "empty counts", line: '{"iteration":5,"layer":1,"counts":[]}', reason: "counts is not a non-empty array" },
    { name: "negative count", line: '{"iteration":5,"layer":1,"counts":[1,-2,3,4]}', reason: "counts must be non-negative integers" },
    { name: "fractional count", line: '{"iteration":5,"layer":1,"counts":[1,2.5,3,4]}', reason: "counts must be non-negative integers" },
    { name: "wrong number of experts", line: '{"iteration":5,"layer":1,"counts":[1,2,3]}', reason: "counts length differs from the 4 experts of earlier lines" },
  ];
  it.each(cases)("$name", ({ line, reason }) => {
    const { records, summary } = parseTokensJsonlText(`${good}\n${line}\n${good}`);
    expect(records).toHaveLength(2);
    expect(summary.skipped).toEqual([{ line: 2, reason, text: line }]);
  });

  it("summarises lines, ranges, layers and ranks, ignoring blank lines", () => {
    const text = [
      '{"iteration":3,"layer":2,"rank":1,"counts":[1,2]}',
      "",
      '{"iteration":1,"layer":4,"rank":0,"counts":[0,2]}',
      '{"iteration":3,"layer":2,"rank":0,"counts":[5,5]}',
      "garbage",
    ].join("\n");
    const { summary } = parseTokensJsonlText(text);
    expect(summary).toMatchObject({
      lines: 5,
      records: 3,
      numExperts: 2,
      iterations: { first: 1, last: 3, distinct: 2 },
      layers: [2, 4],
      ranks: [0, 1],
      skippedByReason: { "not valid JSON": 1 },
    });
  });
});
