/**
 * Output of the benches: Markdown tables (pasted into BENCHMARKS.md as they are) and number formats.
 */
import { execFileSync } from "node:child_process";
import { REPO_ROOT, loadAverage } from "./proc";

/** printTable prints a titled Markdown table. */
export function printTable(title: string, headers: string[], rows: Array<Array<string | number>>): void {
  console.log(`\n### ${title}\n`);
  console.log(`| ${headers.join(" | ")} |`);
  console.log(`|${headers.map(() => "---").join("|")}|`);
  for (const r of rows) console.log(`| ${r.map(String).join(" | ")} |`);
}

/** num formats a number with thousands separators and `digits` decimals. */
export function num(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return "-";
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** rate formats a per-second rate compactly: 1.21 M, 774 k. */
export function rate(x: number): string {
  if (!Number.isFinite(x)) return "-";
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(x >= 1e5 ? 0 : 1)} k`;
  return x.toFixed(0);
}

/** ms formats seconds as milliseconds. */
export function ms(seconds: number): string {
  return Number.isFinite(seconds) ? `${(seconds * 1000).toFixed(seconds < 0.01 ? 1 : 0)} ms` : "-";
}

/** ratio formats a/b as "2.3x" (or "-" when either is missing). */
export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "-";
  const r = a / b;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x`;
}

/** median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** printContext prints when, on which commit and under which load a bench ran (the tables' caveat). */
export function printContext(name: string): void {
  console.log(`${name}: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, commit ${commitLabel()}, load average ${loadAverage()}`);
}

/** commitLabel: BENCH_COMMIT (set by bench/snapshot.sh, whose copy has no .git), else HEAD and whether the tree differs. */
function commitLabel(): string {
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT;
  const git = (...args: string[]) => execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? " + uncommitted changes" : ""}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}
