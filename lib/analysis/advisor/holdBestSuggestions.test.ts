import { describe, expect, it } from "vitest";
import { holdBestSuggestions, type SuggestionHolds } from "./holdBestSuggestions";
import type { Suggestion } from "./types";

function s(id: string, score: number, valid = true): Suggestion {
  return { id, kind: "capacity", title: id, changes: [], argsAfter: [], diff: "", rationale: "", cost: "", valid, violations: [], numbers: {}, score };
}

/** play feeds (step, scores by id) frames and returns the id shown first at each step. */
function play(frames: Array<[number, Record<string, number>]>): string[] {
  let holds: SuggestionHolds | null = null;
  return frames.map(([step, scores]) => {
    const list = Object.entries(scores).map(([id, sc]) => s(id, sc)).sort((a, b) => b.score - a.score);
    const r = holdBestSuggestions(list, holds, step, { margin: 5, windowSteps: 50 });
    holds = r.holds;
    return r.suggestions[0].id;
  });
}

describe("holdBestSuggestions", () => {
  const cases: Array<{ name: string; frames: Array<[number, Record<string, number>]>; shown: string[] }> = [
    {
      name: "a challenger within the margin never replaces the held suggestion",
      frames: [[50, { "cf2.0": 10, "cf1.25": 8 }], [60, { "cf2.0": 10, "cf1.25": 14 }], [200, { "cf2.0": 10, "cf1.25": 14 }]],
      shown: ["cf2.0", "cf2.0", "cf2.0"],
    },
    {
      name: "a challenger better by the margin replaces it only after the window",
      frames: [[50, { "cf2.0": 10, "cf1.25": 8 }], [60, { "cf2.0": 10, "cf1.25": 20 }], [100, { "cf2.0": 10, "cf1.25": 20 }], [110, { "cf2.0": 10, "cf1.25": 20 }]],
      shown: ["cf2.0", "cf2.0", "cf2.0", "cf1.25"],
    },
    {
      name: "a challenger that falls back restarts its window",
      frames: [[50, { "cf2.0": 10, "cf1.25": 8 }], [60, { "cf2.0": 10, "cf1.25": 20 }], [90, { "cf2.0": 10, "cf1.25": 12 }], [120, { "cf2.0": 10, "cf1.25": 20 }], [160, { "cf2.0": 10, "cf1.25": 20 }], [170, { "cf2.0": 10, "cf1.25": 20 }]],
      shown: ["cf2.0", "cf2.0", "cf2.0", "cf2.0", "cf2.0", "cf1.25"],
    },
    {
      name: "looking back at an earlier step ignores the holds",
      frames: [[50, { "cf2.0": 10, "cf1.25": 8 }], [40, { "cf2.0": 10, "cf1.25": 20 }]],
      shown: ["cf2.0", "cf1.25"],
    },
  ];
  for (const c of cases) it(c.name, () => expect(play(c.frames)).toEqual(c.shown));

  it("says why the ranking was overridden", () => {
    const first = holdBestSuggestions([s("a", 10), s("b", 1)], null, 10);
    const second = holdBestSuggestions([s("b", 30), s("a", 10)], first.holds, 20);
    expect(second.suggestions.map((x) => x.id)).toEqual(["a", "b"]);
    expect(second.notes[0]).toMatch(/still showing "a" first \(since step 10\); "b" scores 20\.0 higher since step 20/);
  });

  it("drops an invalid held suggestion for a valid one at once", () => {
    const first = holdBestSuggestions([s("a", 10, false)], null, 10);
    expect(holdBestSuggestions([s("b", 11), s("a", 10, false)], first.holds, 11).suggestions[0].id).toBe("b");
  });
});
