/**
 * The human (and --json) summary of an import: what was imported per series with its iteration range,
 * what was skipped grouped by reason, and which all-zero series were dropped.
 */
import type { TensorBoardImportResult } from "./createTensorBoardCollector";
import { LM_LOSS_SERIES, type MegatronIteration, type MegatronLogResult } from "./parseMegatronLog";
import type { TokensJsonlSummary } from "./parseTokensJsonl";

/** ImportSummaryInput: the result of one importer, tagged with its source kind. */
export type ImportSummaryInput =
  | { kind: "megatron-log"; result: MegatronLogResult }
  | { kind: "tensorboard"; result: TensorBoardImportResult }
  | { kind: "tokens-jsonl"; result: TokensJsonlSummary };

/** SeriesSummary: one imported series. */
export interface SeriesSummary {
  name: string;
  points: number;
  first: number;
  last: number;
}

/** ImportSummary: structured summary plus the text the CLI prints. */
export interface ImportSummary {
  kind: ImportSummaryInput["kind"];
  /** Iterations (steps) covered by the imported data; null when nothing was imported. */
  iterations: { count: number; first: number; last: number } | null;
  series: SeriesSummary[];
  skipped: Array<{ reason: string; count: number }>;
  skippedTotal: number;
  droppedAllZero: string[];
  warnings: string[];
  text: string;
}

function groupReasons(byReason: Record<string, number>): Array<{ reason: string; count: number }> {
  return Object.entries(byReason)
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

// Fields of an iteration line worth listing as series, by the name Megatron prints.
const ITERATION_FIELDS: Array<[string, (it: MegatronIteration) => number | undefined]> = [
  [LM_LOSS_SERIES, (it) => it.lmLoss],
  ["elapsed time per iteration (ms)", (it) => it.iterationTimeMs],
  ["learning rate", (it) => it.learningRate],
  ["grad norm", (it) => it.gradNorm],
  ["loss scale", (it) => it.lossScale],
];

function addPoint(map: Map<string, SeriesSummary>, name: string, at: number): void {
  const s = map.get(name);
  if (!s) map.set(name, { name, points: 1, first: at, last: at });
  else {
    s.points++;
    s.first = Math.min(s.first, at);
    s.last = Math.max(s.last, at);
  }
}

function summarizeMegatron(r: MegatronLogResult): Omit<ImportSummary, "kind" | "text"> {
  const series = new Map<string, SeriesSummary>();
  for (const it of r.iterations) {
    for (const [name, get] of ITERATION_FIELDS) if (get(it) !== undefined) addPoint(series, name, it.iteration);
    for (const name of Object.keys(it.losses)) addPoint(series, name, it.iteration);
  }
  for (const m of r.memory) addPoint(series, `memory (MB) rank ${m.rank}`, m.iteration);
  let first = Infinity;
  let last = -Infinity;
  for (const it of r.iterations) {
    first = Math.min(first, it.iteration);
    last = Math.max(last, it.iteration);
  }
  const warnings: string[] = [];
  if (r.duplicates.iterations > 0) {
    warnings.push(
      `${r.duplicates.iterations} repeated iteration lines ignored (first kept)` +
        (r.duplicates.conflictingIterations > 0
          ? `; ${r.duplicates.conflictingIterations} had different values (a resumed run re-logging iterations?)`
          : ""),
    );
  }
  if (r.duplicates.memory > 0) warnings.push(`${r.duplicates.memory} repeated memory lines ignored`);
  if (r.arguments === null) warnings.push("no arguments block printed: run configuration not imported");
  if (r.argumentBlocks > 1) warnings.push(`${r.argumentBlocks} arguments blocks (several launches in one file); the first was used`);
  return {
    iterations: r.iterations.length ? { count: r.iterations.length, first, last } : null,
    series: [...series.values()],
    skipped: groupReasons(r.skippedByReason),
    skippedTotal: Object.values(r.skippedByReason).reduce((a, b) => a + b, 0),
    droppedAllZero: r.droppedAllZero,
    warnings,
  };
}

function summarizeTensorBoard(r: TensorBoardImportResult): Omit<ImportSummary, "kind" | "text"> {
  const series = r.series.map((s) => ({ name: s.tag, points: s.points, first: s.firstStep, last: s.lastStep }));
  const byReason = { ...r.skippedByReason };
  for (const p of r.framing.problems) byReason[p.reason] = (byReason[p.reason] ?? 0) + 1;
  const warnings: string[] = [];
  if (r.framing.fatal) warnings.push(`reading stopped at byte ${r.framing.fatal.offset}: ${r.framing.fatal.reason}`);
  if (r.framing.truncatedTail) {
    warnings.push(
      `file ends inside a record at byte ${r.framing.truncatedTail.offset} (still being written, or cut off); that record was not imported`,
    );
  }
  if (r.repeatedSteps > 0) warnings.push(`${r.repeatedSteps} values at already-imported steps ignored (first kept)`);
  const first = series.length ? Math.min(...series.map((s) => s.first)) : 0;
  const last = series.length ? Math.max(...series.map((s) => s.last)) : 0;
  return {
    iterations: series.length ? { count: Math.max(...series.map((s) => s.points)), first, last } : null,
    series,
    skipped: groupReasons(byReason),
    skippedTotal: Object.values(byReason).reduce((a, b) => a + b, 0),
    droppedAllZero: r.droppedAllZero,
    warnings,
  };
}

function summarizeTokens(r: TokensJsonlSummary): Omit<ImportSummary, "kind" | "text"> {
  const series = r.layers.length && r.iterations
    ? [{ name: `tokens_per_expert (${r.layers.length} layers, ${r.numExperts ?? 0} experts)`, points: r.records, first: r.iterations.first, last: r.iterations.last }]
    : [];
  return {
    iterations: r.iterations ? { count: r.iterations.distinct, first: r.iterations.first, last: r.iterations.last } : null,
    series,
    skipped: groupReasons(r.skippedByReason),
    skippedTotal: Object.values(r.skippedByReason).reduce((a, b) => a + b, 0),
    droppedAllZero: [],
    warnings: [],
  };
}

function render(kind: string, s: Omit<ImportSummary, "kind" | "text">): string {
  const out: string[] = [];
  out.push(
    s.iterations
      ? `Imported ${kind}: ${s.series.length} series, iterations ${s.iterations.first}..${s.iterations.last}`
      : `Imported ${kind}: nothing`,
  );
  const width = Math.max(0, ...s.series.map((x) => x.name.length));
  for (const x of s.series) out.push(`  ${x.name.padEnd(width)}  ${x.points} points  ${x.first}..${x.last}`);
  if (s.droppedAllZero.length) out.push(`Dropped all-zero series: ${s.droppedAllZero.join(", ")}`);
  if (s.skippedTotal > 0) {
    out.push(`Skipped ${s.skippedTotal}:`);
    for (const g of s.skipped) out.push(`  ${String(g.count).padStart(6)}  ${g.reason}`);
  }
  for (const w of s.warnings) out.push(`Warning: ${w}`);
  return out.join("\n");
}

/** summarizeImport: build the final summary (structured and as text) of one importer's result. */
export function summarizeImport(input: ImportSummaryInput): ImportSummary {
  const body =
    input.kind === "megatron-log"
      ? summarizeMegatron(input.result)
      : input.kind === "tensorboard"
        ? summarizeTensorBoard(input.result)
        : summarizeTokens(input.result);
  return { kind: input.kind, ...body, text: render(input.kind, body) };
}
