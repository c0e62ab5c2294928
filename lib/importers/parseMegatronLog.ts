/**
 * Incremental parser for Megatron-LM stdout training logs.
 *
 * Written from Megatron's format strings (NVIDIA/Megatron-LM, megatron/training/training.py
 * `training_log`, megatron/training/utils `report_memory`, megatron/training/arguments.py `_print_args`),
 * not from one sample, so it accepts every variant those strings have produced:
 *  - the iteration line ` [ts] iteration {:8d}/{:8d} | key: value | ... |` with a timestamp
 *    `%Y-%m-%d %H:%M:%S` (2024-01 .. 2026-01), `%Y-%m-%d %H:%M:%S.%f` (2026-01 on) or none (older);
 *  - losses as ` {key}: {value:.6E} |`, MoE console scalars as ` {k}: {v:.2f} |`, counters as `{:3d}`
 *    (wider when the value has more digits, or in forks);
 *  - `[Rank N] (after N iterations) memory (MB) | allocated: ... | max allocated: ... | reserved: ... |
 *    max reserved: ...` with raw floats (old) or `.2f` (2026-01 on), plus the checkpoint-save variants;
 *  - the `---- arguments ----` block of `  name ..... value` lines.
 * Launcher prefixes (torchrun `[default0]:`, `[rank3]:`, slurm `srun --label` `0: `, OpenMPI
 * `[1,0]<stdout>:`, pdsh host prefixes) are tolerated anywhere before the payload.
 *
 * Values are kept exactly as logged: Megatron's aux loss is 1.0 at perfect balance and old builds with
 * `--moe-layer-recompute` logged it doubled; we do not "fix" that (DESIGN.md, "Aux loss semantics").
 */

/** MegatronIteration: one iteration line as Megatron printed it (averages over the log interval). */
export interface MegatronIteration {
  iteration: number;
  trainIters?: number;
  /** ISO 8601 local time as printed (no zone: Megatron prints local wall-clock time); microseconds kept. */
  timestamp?: string;
  consumedSamples?: number;
  iterationTimeMs?: number;
  learningRate?: number;
  globalBatchSize?: number;
  lmLoss?: number;
  /** Every other `<name>: value` field whose name ends in "loss", by Megatron's name (e.g. `mtp_1 loss`). */
  losses: Record<string, number>;
  lossScale?: number;
  gradNorm?: number;
  skippedIterations?: number;
  nanIterations?: number;
  /** Remaining numeric fields (throughput, params norm, num zeros, MoE console scalars, ...). */
  extra: Record<string, number>;
  /** Launcher prefix found before the line, e.g. `[default0]:` or `0:`. */
  rankPrefix?: string;
}

/** MegatronMemorySample: one `[Rank N] (...) memory (MB)` line from Megatron's report_memory. */
export interface MegatronMemorySample {
  rank: number;
  iteration: number;
  /** The parenthesised context, e.g. `after 20 iterations` or `before save_checkpoint for iteration 100`. */
  label: string;
  allocatedMB: number;
  maxAllocatedMB: number;
  reservedMB: number;
  maxReservedMB: number;
  totalDeviceMemoryUsedMB?: number;
}

/** SkippedLine: a line (or a field of one) that was not imported, and why. */
export interface SkippedLine {
  /** 1-based line number in the input. */
  line: number;
  reason: string;
  /** The line, truncated to 200 characters. */
  text: string;
}

/** MegatronLogResult: everything parsed from one log. */
export interface MegatronLogResult {
  iterations: MegatronIteration[];
  memory: MegatronMemorySample[];
  /** The first printed arguments block, by Megatron's argument name; null when none was printed. */
  arguments: Record<string, string> | null;
  /** How many arguments blocks were seen (more than one: several launches appended to one file). */
  argumentBlocks: number;
  /** The first `maxSkippedKept` skipped entries; `skippedByReason` counts all of them. */
  skipped: SkippedLine[];
  skippedByReason: Record<string, number>;
  /** Loss series dropped because every logged value was 0 (Megatron logs unused trackers as 0). */
  droppedAllZero: string[];
  /** Repeated iteration / memory lines (several ranks or a restart); the first was kept. */
  duplicates: { iterations: number; conflictingIterations: number; memory: number };
  lines: number;
}

/** MegatronLogParser: push lines one at a time, then finish once. */
export interface MegatronLogParser {
  push(line: string): void;
  finish(): MegatronLogResult;
}

/** MegatronLogParserOptions: limits for very noisy logs. */
export interface MegatronLogParserOptions {
  /** How many skipped entries to keep verbatim (all are counted). Default 1000. */
  maxSkippedKept?: number;
}

/** LM_LOSS_SERIES: the series name of `lm loss`, used in droppedAllZero and summaries. */
export const LM_LOSS_SERIES = "lm loss";

const MAX_TEXT = 200;

// A launcher prefix, repeated any number of times (e.g. slurm label in front of a torchrun prefix):
// torchelastic `[${role_name}${local_rank}]:` / `[${rank}]:`, OpenMPI `[job,rank]<stdout>:`,
// slurm `srun --label` `%d: ` (right-aligned), pdsh/deepspeed `host: `.
const PREFIX_PATTERNS: RegExp[] = [
  /^\[[A-Za-z_-]*\d+\]:/,
  /^\[\d+,\d+\]<std(?:out|err)>:/,
  /^\s*\d+: /,
  /^[A-Za-z][\w.-]*: (?=\s|\[)/,
];

/** stripLauncherPrefix: split a line into its launcher prefixes (trimmed, joined) and the payload. */
export function stripLauncherPrefix(line: string): { prefix: string; rest: string } {
  let rest = line;
  const parts: string[] = [];
  for (let guard = 0; guard < 4; guard++) {
    let m: RegExpExecArray | null = null;
    for (const re of PREFIX_PATTERNS) if ((m = re.exec(rest))) break;
    if (!m) break;
    parts.push(m[0].trim());
    rest = rest.slice(m[0].length);
  }
  return { prefix: parts.join(" "), rest };
}

// ` [2026-01-27 10:00:00.123456] iteration       20/   40000 |`; timestamp optional.
const HEADER = /iteration\s+(\d+)\s*\/\s*(\d+)\s*\|/g;
const TIMESTAMP_AT_END =
  /\[(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?\]\s*$/;
// Lines that are clearly meant to be iteration lines even when the header is broken.
const LOOKS_LIKE_ITERATION = /\biteration\s+\S*\d\S*\s*\/|consumed samples:|elapsed time per iteration \(ms\):/;
const MEMORY = /\[Rank (\d+)\] \(([^)]*)\) memory \(MB\)(.*)$/;
const MEMORY_HINT = /\[Rank \d+\].*memory \(MB\)/;
const ARGS_START = /-{3,}\s*arguments\s*-{3,}/;
const ARGS_END = /-{3,}\s*end of arguments\s*-{3,}/;
const ARG_LINE = /^\s+([A-Za-z_][\w]*) (\.+) ?(.*)$/;
// `'.' * (48 - len(arg))` is empty for names of 48+ characters: then name and value are two spaces apart.
const ARG_LINE_NO_DOTS = /^\s+([A-Za-z_][\w]{47,}) {2}(.*)$/;
const FIELD = /^\s*(.+?)\s*:\s*(\S+)\s*$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

interface Header {
  index: number;
  length: number;
  iteration: number;
  trainIters: number;
}

function findHeaders(line: string): Header[] {
  const out: Header[] = [];
  for (const m of line.matchAll(HEADER)) {
    out.push({ index: m.index ?? 0, length: m[0].length, iteration: Number(m[1]), trainIters: Number(m[2]) });
  }
  return out;
}

const TRAILING_LAUNCHER_PREFIX = /(?:\[[A-Za-z_-]*\d+\]:|\[\d+,\d+\]<std(?:out|err)>:|^\s*\d+:|^[A-Za-z][\w.-]*:)\s*$/;

// The launcher prefix in front of a payload; for a line glued onto another, only its trailing prefix.
function launcherPrefixOf(prefix: string): string | undefined {
  const trimmed = prefix.trim();
  if (!trimmed) return undefined;
  if (stripLauncherPrefix(trimmed + " ").rest.trim() === "") return trimmed;
  const tail = TRAILING_LAUNCHER_PREFIX.exec(trimmed);
  return tail ? tail[0].trim() : trimmed.slice(-64);
}

type ParsedNumber = { kind: "ok"; value: number } | { kind: "non-finite"; raw: string } | { kind: "bad" };

function parseNumber(raw: string): ParsedNumber {
  if (NUMBER.test(raw)) return { kind: "ok", value: Number(raw) };
  if (NON_FINITE.test(raw)) return { kind: "non-finite", raw };
  return { kind: "bad" };
}

// Named fields of the iteration line (training.py training_log); everything else goes by suffix.
const KNOWN_FIELDS: Record<string, keyof MegatronIteration> = {
  "consumed samples": "consumedSamples",
  "elapsed time per iteration (ms)": "iterationTimeMs",
  "learning rate": "learningRate",
  "global batch size": "globalBatchSize",
  "lm loss": "lmLoss",
  "loss scale": "lossScale",
  "grad norm": "gradNorm",
  "number of skipped iterations": "skippedIterations",
  "number of nan iterations": "nanIterations",
};

type NumericField =
  | "consumedSamples"
  | "iterationTimeMs"
  | "learningRate"
  | "globalBatchSize"
  | "lmLoss"
  | "lossScale"
  | "gradNorm"
  | "skippedIterations"
  | "nanIterations";

function sameValues(a: MegatronIteration, b: MegatronIteration): boolean {
  const strip = (it: MegatronIteration): string => {
    const copy: Partial<MegatronIteration> = { ...it };
    delete copy.rankPrefix;
    delete copy.timestamp;
    return JSON.stringify(copy);
  };
  return strip(a) === strip(b);
}

/** createMegatronLogParser: an incremental parser; push every line (without its newline), then finish. */
export function createMegatronLogParser(options: MegatronLogParserOptions = {}): MegatronLogParser {
  const maxKept = options.maxSkippedKept ?? 1000;
  const iterations: MegatronIteration[] = [];
  const byIteration = new Map<number, MegatronIteration>();
  const memory: MegatronMemorySample[] = [];
  const memoryKeys = new Set<string>();
  const skipped: SkippedLine[] = [];
  const skippedByReason: Record<string, number> = {};
  const duplicates = { iterations: 0, conflictingIterations: 0, memory: 0 };
  let args: Record<string, string> | null = null;
  let argumentBlocks = 0;
  let inArgs = false;
  let lineNo = 0;

  const skip = (reason: string, text: string): void => {
    skippedByReason[reason] = (skippedByReason[reason] ?? 0) + 1;
    if (skipped.length < maxKept) skipped.push({ line: lineNo, reason, text: text.slice(0, MAX_TEXT) });
  };

  const parseIterationSegment = (
    line: string,
    prefixText: string,
    header: Header,
    body: string,
    isLastSegment: boolean,
  ): void => {
    const { iteration, trainIters } = header;
    if (!Number.isSafeInteger(iteration) || !Number.isSafeInteger(trainIters)) {
      skip("malformed iteration header", line);
      return;
    }
    const it: MegatronIteration = { iteration, trainIters, losses: {}, extra: {} };
    const ts = TIMESTAMP_AT_END.exec(prefixText);
    let prefix = prefixText;
    if (ts) {
      it.timestamp = `${ts[1]}T${ts[2]}${ts[3] ? `.${ts[3]}` : ""}`;
      prefix = prefixText.slice(0, ts.index);
    }
    const rankPrefix = launcherPrefixOf(prefix);
    if (rankPrefix) it.rankPrefix = rankPrefix;

    const pieces = body.split("|");
    // Megatron terminates every field with ' |'; text after the last '|' is a cut-off field, or the
    // launcher prefix of a second line glued onto this one.
    const tail = pieces.pop() ?? "";
    const tailTrim = tail.trim();
    if (tailTrim) {
      const gluedPrefix = isLastSegment ? false : stripLauncherPrefix(tailTrim).rest.trim() === "";
      if (!gluedPrefix) skip("truncated iteration line (last field cut off)", line);
    }
    for (const piece of pieces) {
      if (!piece.trim()) continue;
      const f = FIELD.exec(piece);
      if (!f) {
        skip("unparsable field in iteration line", line);
        continue;
      }
      const key = f[1];
      const num = parseNumber(f[2]);
      if (num.kind === "non-finite") {
        skip(`non-finite ${key}`, line);
        continue;
      }
      if (num.kind === "bad") {
        skip(`unparsable value for ${key}`, line);
        continue;
      }
      const known = KNOWN_FIELDS[key] as NumericField | undefined;
      if (known) it[known] = num.value;
      else if (key.toLowerCase().endsWith("loss")) it.losses[key] = num.value;
      else it.extra[key] = num.value;
    }

    const first = byIteration.get(iteration);
    if (first) {
      duplicates.iterations++;
      if (!sameValues(first, it)) duplicates.conflictingIterations++;
      return;
    }
    byIteration.set(iteration, it);
    iterations.push(it);
  };

  const parseIterationLine = (line: string, headers: Header[]): void => {
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i];
      const prevEnd = i === 0 ? 0 : headers[i - 1].index + headers[i - 1].length;
      // For a glued second header, its own prefix sits after the previous segment's last '|'.
      let prefixStart = prevEnd;
      if (i > 0) {
        const between = line.slice(prevEnd, h.index);
        prefixStart = prevEnd + between.lastIndexOf("|") + 1;
      }
      const prefixText = line.slice(prefixStart, h.index);
      const bodyEnd = i + 1 < headers.length ? headers[i + 1].index : line.length;
      let body = line.slice(h.index + h.length, bodyEnd);
      if (i + 1 < headers.length) {
        // Leave the next header's timestamp and prefix out of this segment's tail.
        const nextTs = TIMESTAMP_AT_END.exec(body);
        if (nextTs) body = body.slice(0, nextTs.index);
      }
      parseIterationSegment(line, prefixText, h, body, i + 1 === headers.length);
    }
  };

  const parseMemoryLine = (line: string, m: RegExpExecArray): void => {
    const rank = Number(m[1]);
    const label = m[2].trim();
    const iterMatch = /after (\d+) iterations|for iteration (\d+)/.exec(label);
    if (!iterMatch) {
      skip("memory line without an iteration", line);
      return;
    }
    const iteration = Number(iterMatch[1] ?? iterMatch[2]);
    const fields: Record<string, number> = {};
    for (const piece of m[3].split("|")) {
      const f = FIELD.exec(piece);
      if (!f) continue;
      const num = parseNumber(f[2]);
      if (num.kind === "ok") fields[f[1]] = num.value;
    }
    const required = ["allocated", "max allocated", "reserved", "max reserved"];
    if (required.some((k) => fields[k] === undefined)) {
      skip("malformed memory line", line);
      return;
    }
    const key = `${rank}|${label}`;
    if (memoryKeys.has(key)) {
      duplicates.memory++;
      return;
    }
    memoryKeys.add(key);
    const sample: MegatronMemorySample = {
      rank,
      iteration,
      label,
      allocatedMB: fields["allocated"],
      maxAllocatedMB: fields["max allocated"],
      reservedMB: fields["reserved"],
      maxReservedMB: fields["max reserved"],
    };
    const total = fields["total device memory used"];
    if (total !== undefined) sample.totalDeviceMemoryUsedMB = total;
    memory.push(sample);
  };

  const parseArgLine = (line: string): void => {
    const { rest } = stripLauncherPrefix(line);
    const m = ARG_LINE.exec(rest) ?? ARG_LINE_NO_DOTS.exec(rest);
    if (!m || !args) return; // interleaved output from other ranks: not an argument
    const name = m[1];
    const value = (m.length === 4 ? m[3] : m[2]).trimEnd();
    // Only the first block is kept: a later block belongs to a later launch appended to the file.
    if (argumentBlocks === 1 && !(name in args)) args[name] = value;
  };

  const push = (raw: string): void => {
    lineNo++;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;

    if (line.includes("arguments ---")) {
      if (ARGS_END.test(line)) {
        inArgs = false;
        return;
      }
      if (ARGS_START.test(line)) {
        inArgs = true;
        argumentBlocks++;
        if (argumentBlocks === 1) args = {};
        return;
      }
    }
    const headers = findHeaders(line);
    const mem = headers.length > 0 ? null : MEMORY.exec(line);
    // A block whose end marker was lost must not swallow the rest of the log.
    if (inArgs && headers.length === 0 && !mem) {
      parseArgLine(line);
      return;
    }
    inArgs = false;
    if (headers.length > 0) {
      parseIterationLine(line, headers);
      return;
    }
    if (mem) {
      parseMemoryLine(line, mem);
      return;
    }
    if (MEMORY_HINT.test(line)) {
      skip("malformed memory line", line);
      return;
    }
    if (LOOKS_LIKE_ITERATION.test(line)) skip("malformed iteration header", line);
    // Anything else is ordinary log noise: counted in `lines`, not reported as skipped.
  };

  const finish = (): MegatronLogResult => {
    const droppedAllZero = dropAllZeroSeries(iterations);
    return {
      iterations,
      memory,
      arguments: args,
      argumentBlocks,
      skipped,
      skippedByReason,
      droppedAllZero,
      duplicates,
      lines: lineNo,
    };
  };

  return { push, finish };
}

// Megatron pre-creates trackers for every configured loss (force_initialize in moe_logging.report) and
// prints them even when nothing recorded into them, so an unused loss shows up as a column of zeros.
function dropAllZeroSeries(iterations: MegatronIteration[]): string[] {
  const seen = new Map<string, boolean>(); // name -> has a non-zero value
  for (const it of iterations) {
    if (it.lmLoss !== undefined) seen.set(LM_LOSS_SERIES, (seen.get(LM_LOSS_SERIES) ?? false) || it.lmLoss !== 0);
    for (const [k, v] of Object.entries(it.losses)) seen.set(k, (seen.get(k) ?? false) || v !== 0);
  }
  const dropped = [...seen].filter(([, nonZero]) => !nonZero).map(([name]) => name);
  for (const name of dropped) {
    for (const it of iterations) {
      if (name === LM_LOSS_SERIES) delete it.lmLoss;
      else delete it.losses[name];
    }
  }
  return dropped.sort();
}

/** parseMegatronLogText: parse a whole log held in memory (tests, small files). */
export function parseMegatronLogText(text: string, options?: MegatronLogParserOptions): MegatronLogResult {
  const parser = createMegatronLogParser(options);
  const lines = text.split("\n");
  // A trailing newline does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) parser.push(line);
  return parser.finish();
}
