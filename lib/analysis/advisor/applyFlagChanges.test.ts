import { describe, expect, it } from "vitest";
import { applyFlagChanges, argsDiff, readFlag, shellQuote } from "./applyFlagChanges";
import type { FlagChange } from "./types";

const base = ["--num-layers", "32", "--expert-model-parallel-size", "8", "--disable-bias-linear", "--moe-aux-loss-coeff=1e-2", "--bf16"];
const change = (flag: string, from: string | null, to: string | null): FlagChange => ({ flag, from, to });

describe("applyFlagChanges", () => {
  const cases: Array<{ name: string; args: string[]; changes: FlagChange[]; want: string[] }> = [
    {
      name: "changes a value in place",
      args: base,
      changes: [change("--expert-model-parallel-size", "8", "4")],
      want: ["--num-layers", "32", "--expert-model-parallel-size", "4", "--disable-bias-linear", "--moe-aux-loss-coeff=1e-2", "--bf16"],
    },
    {
      name: "keeps the --flag=value form",
      args: base,
      changes: [change("--moe-aux-loss-coeff", "1e-2", "0.02")],
      want: ["--num-layers", "32", "--expert-model-parallel-size", "8", "--disable-bias-linear", "--moe-aux-loss-coeff=0.02", "--bf16"],
    },
    {
      name: "appends a missing flag with its value",
      args: ["--num-layers", "32"],
      changes: [change("--moe-expert-capacity-factor", null, "1.0")],
      want: ["--num-layers", "32", "--moe-expert-capacity-factor", "1.0"],
    },
    {
      name: "appends a switch without value",
      args: ["--num-layers", "32"],
      changes: [change("--moe-pad-expert-input-to-capacity", null, "")],
      want: ["--num-layers", "32", "--moe-pad-expert-input-to-capacity"],
    },
    {
      name: "removes a flag and its values",
      args: ["--recompute-granularity", "selective", "--recompute-modules", "core_attn", "moe", "--bf16"],
      changes: [change("--recompute-modules", "core_attn moe", null)],
      want: ["--recompute-granularity", "selective", "--bf16"],
    },
    {
      name: "removes a switch but not a stray token after it",
      args: ["--moe-pad-expert-input-to-capacity", "stray", "--bf16"],
      changes: [change("--moe-pad-expert-input-to-capacity", "", null)],
      want: ["stray", "--bf16"],
    },
    {
      name: "writes several values as several tokens",
      args: ["--recompute-modules", "core_attn"],
      changes: [change("--recompute-modules", "core_attn", "core_attn moe")],
      want: ["--recompute-modules", "core_attn", "moe"],
    },
    {
      name: "edits the last of duplicate flags and drops the earlier ones (argparse: last wins)",
      args: ["--expert-model-parallel-size", "2", "--bf16", "--expert-model-parallel-size", "8"],
      changes: [change("--expert-model-parallel-size", "8", "4")],
      want: ["--bf16", "--expert-model-parallel-size", "4"],
    },
    {
      name: "treats a negative number as a value",
      args: ["--moe-expert-capacity-factor", "-1", "--bf16"],
      changes: [change("--moe-expert-capacity-factor", "-1", "1.25")],
      want: ["--moe-expert-capacity-factor", "1.25", "--bf16"],
    },
    {
      name: "does not match a longer flag with the same prefix",
      args: ["--expert-model-parallel-size-x", "3"],
      changes: [change("--expert-model-parallel-size", null, "4")],
      want: ["--expert-model-parallel-size-x", "3", "--expert-model-parallel-size", "4"],
    },
    {
      name: "removing an absent flag changes nothing",
      args: base,
      changes: [change("--moe-layer-recompute", null, null)],
      want: base,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(applyFlagChanges(c.args, c.changes)).toEqual(c.want);
    });
  }
  it("does not modify its input", () => {
    const args = [...base];
    applyFlagChanges(args, [change("--bf16", "", null)]);
    expect(args).toEqual(base);
  });
});

describe("readFlag", () => {
  const cases = [
    { name: "spaced value", flag: "--expert-model-parallel-size", want: "8" },
    { name: "= value", flag: "--moe-aux-loss-coeff", want: "1e-2" },
    { name: "switch", flag: "--bf16", want: "" },
    { name: "absent", flag: "--fp16", want: null },
  ];
  for (const c of cases) it(c.name, () => expect(readFlag(base, c.flag)).toBe(c.want));
  it("joins several values", () => expect(readFlag(["--recompute-modules", "core_attn", "moe"], "--recompute-modules")).toBe("core_attn moe"));
});

describe("argsDiff", () => {
  it("shows a changed flag as a -/+ pair and an added flag as +", () => {
    const after = applyFlagChanges(base, [
      change("--expert-model-parallel-size", "8", "4"),
      change("--expert-tensor-parallel-size", null, "2"),
    ]);
    expect(argsDiff(base, after)).toBe(
      [
        "--- launch arguments (current)",
        "+++ launch arguments (suggested)",
        "- --expert-model-parallel-size 8",
        "+ --expert-model-parallel-size 4",
        "+ --expert-tensor-parallel-size 2",
      ].join("\n"),
    );
  });
  it("shows a removal as a - line", () => {
    expect(argsDiff(base, applyFlagChanges(base, [change("--disable-bias-linear", "", null)]))).toBe(
      ["--- launch arguments (current)", "+++ launch arguments (suggested)", "- --disable-bias-linear"].join("\n"),
    );
  });
  it("is empty when nothing changed", () => expect(argsDiff(base, [...base])).toBe(""));
  it("quotes values the shell would split or expand", () => {
    expect(argsDiff([], ["--moe-layer-freq", "([0]+[1]*23)"])).toContain("+ --moe-layer-freq '([0]+[1]*23)'");
  });
});

describe("shellQuote", () => {
  const cases = [
    { token: "--num-layers", want: "--num-layers" },
    { token: "1e-2", want: "1e-2" },
    { token: "a b", want: "'a b'" },
    { token: "it's", want: "'it'\\''s'" },
  ];
  for (const c of cases) it(c.token, () => expect(shellQuote(c.token)).toBe(c.want));
});
