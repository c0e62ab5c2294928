/**
 * Parser for JSONL dumps of tokens-per-expert counts, one object per (iteration, layer, rank), e.g.
 * `{"iteration": 12, "layer": 3, "rank": 0, "tokens_per_expert": [..]}`. Users wrote these with their own
 * hooks, so a few spellings of each key are accepted; every line is validated on its own and a bad line
 * is skipped with a reason while the rest are imported.
 */

/** TokenCountRecord: one accepted line. */
export interface TokenCountRecord {
  iteration: number;
  /** Global 1-based layer number (Megatron's layer_number). */
  layer: number;
  rank?: number;
  tokensPerExpert: number[];
}

/** TokensJsonlSkipped: a skipped line with its reason (text truncated to 200 characters). */
export interface TokensJsonlSkipped {
  line: number;
  reason: string;
  text: string;
}

/** TokensJsonlSummary: what finish() reports; records were handed out by push(). */
export interface TokensJsonlSummary {
  lines: number;
  records: number;
  numExperts: number | null;
  iterations: { first: number; last: number; distinct: number } | null;
  layers: number[];
  ranks: number[];
  skipped: TokensJsonlSkipped[];
  skippedByReason: Record<string, number>;
}

/** TokensJsonlParser: push lines; push returns the accepted record, or undefined if skipped or blank. */
export interface TokensJsonlParser {
  push(line: string): TokenCountRecord | undefined;
  finish(): TokensJsonlSummary;
}

/** TokensJsonlOptions: how to read ambiguous dumps. */
export interface TokensJsonlOptions {
  /**
   * Numbering of `layer`/`layer_number` in the dump. Default 1 (Megatron's layer_number); pass 0 for
   * dumps indexed from 0. Layer numbers below the base are rejected rather than guessed.
   */
  layerBase?: 0 | 1;
  /** Expected number of experts; by default the first accepted line sets it. */
  numExperts?: number;
  /** How many skipped lines to keep verbatim (all are counted). Default 1000. */
  maxSkippedKept?: number;
}

// First spelling present wins; a second, different spelling of the same thing is a conflict.
const ITERATION_KEYS = ["iteration", "step", "iter"];
const LAYER_KEYS = ["layer_number", "layer"];
const RANK_KEYS = ["rank", "global_rank"];
const COUNTS_KEYS = ["tokens_per_expert", "counts", "expert_counts"];

type Pick = { ok: true; value: unknown } | { ok: false; reason: string };

function pickKey(obj: Record<string, unknown>, keys: string[], what: string): Pick {
  const present = keys.filter((k) => obj[k] !== undefined);
  if (present.length === 0) return { ok: true, value: undefined };
  const first = obj[present[0]];
  for (const k of present.slice(1)) {
    if (JSON.stringify(obj[k]) !== JSON.stringify(first)) {
      return { ok: false, reason: `conflicting ${what} keys (${present.join(", ")})` };
    }
  }
  return { ok: true, value: first };
}

function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function rangeOf(set: Set<number>): TokensJsonlSummary["iterations"] {
  if (set.size === 0) return null;
  let first = Infinity;
  let last = -Infinity;
  for (const v of set) {
    first = Math.min(first, v);
    last = Math.max(last, v);
  }
  return { first, last, distinct: set.size };
}

/** createTokensJsonlParser: a streaming, per-line validating parser for token-count dumps. */
export function createTokensJsonlParser(options: TokensJsonlOptions = {}): TokensJsonlParser {
  const layerBase = options.layerBase ?? 1;
  const maxKept = options.maxSkippedKept ?? 1000;
  let numExperts: number | null = options.numExperts ?? null;
  let lineNo = 0;
  let records = 0;
  const iterationSet = new Set<number>();
  const layers = new Set<number>();
  const ranks = new Set<number>();
  const skipped: TokensJsonlSkipped[] = [];
  const skippedByReason: Record<string, number> = {};

  const skip = (reason: string, text: string): undefined => {
    skippedByReason[reason] = (skippedByReason[reason] ?? 0) + 1;
    if (skipped.length < maxKept) skipped.push({ line: lineNo, reason, text: text.slice(0, 200) });
    return undefined;
  };

  const push = (raw: string): TokenCountRecord | undefined => {
    lineNo++;
    const line = raw.trim();
    if (!line) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return skip("not valid JSON", raw);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return skip("not a JSON object", raw);
    }
    const obj = parsed as Record<string, unknown>;

    const it = pickKey(obj, ITERATION_KEYS, "iteration");
    if (!it.ok) return skip(it.reason, raw);
    if (it.value === undefined) return skip("missing iteration (iteration/step/iter)", raw);
    if (!isNonNegativeInteger(it.value)) return skip("iteration is not a non-negative integer", raw);

    const ly = pickKey(obj, LAYER_KEYS, "layer");
    if (!ly.ok) return skip(ly.reason, raw);
    if (ly.value === undefined) return skip("missing layer (layer/layer_number)", raw);
    if (!isNonNegativeInteger(ly.value)) return skip("layer is not a non-negative integer", raw);
    if (ly.value < layerBase) return skip(`layer ${ly.value} below the ${layerBase}-based numbering (set layerBase)`, raw);
    const layer = ly.value - layerBase + 1;

    const rk = pickKey(obj, RANK_KEYS, "rank");
    if (!rk.ok) return skip(rk.reason, raw);
    if (rk.value !== undefined && !isNonNegativeInteger(rk.value)) return skip("rank is not a non-negative integer", raw);

    const ct = pickKey(obj, COUNTS_KEYS, "counts");
    if (!ct.ok) return skip(ct.reason, raw);
    if (ct.value === undefined) return skip("missing counts (tokens_per_expert/counts/expert_counts)", raw);
    if (!Array.isArray(ct.value) || ct.value.length === 0) return skip("counts is not a non-empty array", raw);
    const counts: unknown[] = ct.value;
    if (!counts.every(isNonNegativeInteger)) return skip("counts must be non-negative integers", raw);
    if (numExperts === null) numExperts = counts.length;
    else if (counts.length !== numExperts) {
      return skip(`counts length differs from the ${numExperts} experts of earlier lines`, raw);
    }

    const record: TokenCountRecord = { iteration: it.value, layer, tokensPerExpert: counts as number[] };
    if (rk.value !== undefined) {
      record.rank = rk.value as number;
      ranks.add(record.rank);
    }
    records++;
    layers.add(layer);
    iterationSet.add(it.value);
    return record;
  };

  const finish = (): TokensJsonlSummary => ({
    lines: lineNo,
    records,
    numExperts,
    iterations: rangeOf(iterationSet),
    layers: [...layers].sort((a, b) => a - b),
    ranks: [...ranks].sort((a, b) => a - b),
    skipped,
    skippedByReason,
  });

  return { push, finish };
}

/** parseTokensJsonlText: parse a whole dump held in memory (tests, small files). */
export function parseTokensJsonlText(
  text: string,
  options?: TokensJsonlOptions,
): { records: TokenCountRecord[]; summary: TokensJsonlSummary } {
  const parser = createTokensJsonlParser(options);
  const records: TokenCountRecord[] = [];
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    const r = parser.push(line);
    if (r) records.push(r);
  }
  return { records, summary: parser.finish() };
}
