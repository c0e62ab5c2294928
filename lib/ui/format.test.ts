import { describe, expect, it } from "vitest";
import { formatBytes } from "./formatBytes";
import { formatRelativeTime } from "./formatRelativeTime";
import { formatCount, formatPercent, formatRatio } from "./formatCount";
import { formatCommandLine, shellQuote } from "./formatCommandLine";

describe("formatBytes", () => {
  it.each([
    { name: "zero", bytes: 0, want: "0 B" },
    { name: "below a KiB stays exact", bytes: 1023, want: "1023 B" },
    { name: "one and a half KiB", bytes: 1536, want: "1.5 KiB" },
    { name: "80 GB H100 in GiB", bytes: 80e9, want: "74.5 GiB" },
    { name: "exactly 1 TiB", bytes: 1024 ** 4, want: "1.0 TiB" },
    { name: "negative delta", bytes: -2 * 1024 ** 2, want: "-2.0 MiB" },
    { name: "null", bytes: null, want: "–" },
  ])("$name", ({ bytes, want }) => {
    expect(formatBytes(bytes)).toBe(want);
  });
});

describe("formatRelativeTime", () => {
  const now = Date.parse("2025-01-02T12:00:00Z");
  it.each([
    { name: "never seen", iso: null, want: "never" },
    { name: "2 s ago is just now", iso: "2025-01-02T11:59:58Z", want: "just now" },
    { name: "future (clock skew) is just now", iso: "2025-01-02T12:00:30Z", want: "just now" },
    { name: "seconds", iso: "2025-01-02T11:59:18Z", want: "42 s ago" },
    { name: "minutes", iso: "2025-01-02T11:55:00Z", want: "5 min ago" },
    { name: "hours", iso: "2025-01-02T09:00:00Z", want: "3 h ago" },
    { name: "days", iso: "2024-12-28T12:00:00Z", want: "5 d ago" },
    { name: "garbage", iso: "yesterday", want: "unknown" },
  ])("$name", ({ iso, want }) => {
    expect(formatRelativeTime(iso, now)).toBe(want);
  });
});

describe("formatCount / formatRatio / formatPercent", () => {
  it("keeps small counts exact and compacts large ones", () => {
    expect(formatCount(999)).toBe("999");
    expect(formatCount(12345)).toBe("12.3k");
    expect(formatCount(4_096_000)).toBe("4.1M");
    expect(formatCount(250_000)).toBe("250k");
  });
  it("formats ratios with 3 significant digits", () => {
    expect(formatRatio(0.99944)).toBe("0.999");
    expect(formatRatio(3.14159)).toBe("3.14");
    expect(formatRatio(0)).toBe("0");
    expect(formatRatio(0.00001234)).toBe("1.23e-5");
  });
  it("formats shares as percentages", () => {
    expect(formatPercent(0.125)).toBe("12.5%");
    expect(formatPercent(Number.NaN)).toBe("–");
  });
});

describe("formatCommandLine", () => {
  it("quotes only arguments that need it", () => {
    expect(shellQuote("--num-experts")).toBe("--num-experts");
    expect(shellQuote("([0]+[1]*23)")).toBe("'([0]+[1]*23)'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("")).toBe("''");
  });
  it("puts each flag on its own continued line", () => {
    const cmd = formatCommandLine(["torchrun", "pretrain_gpt.py", "--num-experts", "8", "--moe-layer-freq", "([0]+[1]*3)", "--bf16"]);
    expect(cmd).toBe("torchrun pretrain_gpt.py \\\n  --num-experts 8 \\\n  --moe-layer-freq '([0]+[1]*3)' \\\n  --bf16");
  });
  it("is empty for no arguments", () => {
    expect(formatCommandLine([])).toBe("");
  });
});
