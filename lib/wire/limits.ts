/**
 * Every limit the product puts on what it is sent, in one table with the reason for each. A collector
 * listens where thousands of processes can reach it: without bounds, one bad or hostile sender could
 * make it allocate without end (a huge expert vector, a megabyte "host" string repeated per rank) or
 * store something the dashboard cannot draw. The numbers are far above any real Megatron-Core run, so
 * they never bite an honest client; each violation names the field and the limit.
 *
 * Pure: no I/O. The collector-side overload settings (pending bytes, streams, idle timeout) live in
 * collector/admission.ts because they are about the process, not the data.
 */
import { InvalidInput } from "../analysis/errors";

/** Limit: one bound and why it is what it is (rendered in the README table). */
export interface Limit {
  value: number;
  unit: string;
  why: string;
}

/** LIMITS: the single table. Change a number here and every check and message follows. */
export const LIMITS = {
  maxMessageBytes: {
    value: 4 * 1024 * 1024,
    unit: "bytes",
    why: "largest gRPC message the collector decodes; a full batch of 512 layer reports with 1,024 experts is ~1.5 MiB, and a decoded message costs several times its wire size in memory",
  },
  maxExperts: {
    value: 4_096,
    unit: "experts per MoE layer",
    why: "DeepSeek-V3 has 256, the largest published fine-grained MoEs ~1,000; the heatmaps draw one column per expert",
  },
  maxLayers: { value: 1_024, unit: "layers", why: "the deepest Megatron models have ~128 layers; bounds per-run arrays and the layer axis" },
  maxWorldSize: { value: 262_144, unit: "ranks", why: "far above the largest training clusters (~100k GPUs); bounds per-rank tables" },
  maxParallelSize: { value: 65_536, unit: "ranks per parallel dimension", why: "TP/PP/CP/EP/ETP beyond this cannot be a real mesh" },
  maxStep: {
    value: 2_147_483_647,
    unit: "iterations",
    why: "steps are stored as 32-bit integers (PostgreSQL integer); two billion iterations is far beyond any training run",
  },
  maxMicroBatches: { value: 1_000_000, unit: "micro-batches per step", why: "stored as a 32-bit integer; a global batch is at most tens of thousands of micro-batches" },
  maxSeq: { value: Number.MAX_SAFE_INTEGER, unit: "", why: "batch sequence numbers must survive JavaScript numbers exactly (2^53 - 1)" },
  maxRecordsPerBatch: {
    value: 20_000,
    unit: "records per batch",
    why: "one batch is one flush's worth; clients send a batch per step (a few hundred layer reports), so this only stops a sender from parking a huge batch in memory",
  },
  maxRunKey: { value: 200, unit: "characters", why: "run keys are identifiers used in URLs and logs" },
  maxName: { value: 200, unit: "characters", why: "run names are shown in lists and titles" },
  maxHost: { value: 255, unit: "characters", why: "a DNS host name is at most 253 characters" },
  maxDevice: { value: 256, unit: "characters", why: "a device description such as \"cuda:3 NVIDIA H100 80GB HBM3\"" },
  maxClient: { value: 128, unit: "characters", why: "a client name and version" },
  maxClientInstance: { value: 128, unit: "characters", why: "a client process's id (a UUID is 36): it keys the durable sequence numbers of one process" },
  maxFramework: { value: 128, unit: "characters", why: "framework name or version string" },
  maxConfigString: { value: 1_024, unit: "characters", why: "one string config value (moe_layer_freq, an extra flag value)" },
  maxConfigExtraEntries: { value: 512, unit: "entries", why: "Megatron has ~500 flags in total" },
  maxConfigJsonBytes: { value: 64 * 1024, unit: "bytes", why: "the stored run configuration as JSON; a full Megatron argument dump is ~20 KB" },
  maxCommandLineArgs: { value: 4_096, unit: "arguments", why: "a launch command line, one entry per argument" },
  maxCommandLineBytes: { value: 64 * 1024, unit: "bytes", why: "the launch command line in total (Linux ARG_MAX per string is 128 KiB)" },
  maxEventMessage: { value: 16 * 1024, unit: "characters", why: "an exception text (OOM, crash); the Python client sends at most 4,000 characters" },
  maxPhase: { value: 32, unit: "characters", why: "forward, backward, optimizer or unknown" },
  maxScalarName: { value: 200, unit: "characters", why: "a logged series name such as \"grad-norm\"" },
  maxImportBytes: { value: 512 * 1024 * 1024, unit: "bytes", why: "largest file `import` reads; a 100k-step Megatron log is ~50 MB" },
  maxImportLineBytes: { value: 1024 * 1024, unit: "bytes", why: "longest line of a log or JSONL file; longer lines are not Megatron output" },
  maxImportRecords: { value: 5_000_000, unit: "records", why: "records one import may produce (100k steps x 48 layers)" },
  maxImportUploadBytes: { value: 64 * 1024 * 1024, unit: "bytes", why: "largest file the dashboard's import form accepts (the CLI reads larger files from disk)" },
} as const satisfies Record<string, Limit>;

/** LimitName: a key of LIMITS. */
export type LimitName = keyof typeof LIMITS;

/** limit returns the value of one limit. */
export function limit(name: LimitName): number {
  return LIMITS[name].value;
}

/**
 * textProblem says what is wrong with a string field, or null: longer than the limit, or holding a NUL
 * character (PostgreSQL text cannot store one, and no honest name or message contains it).
 */
export function textProblem(value: string, name: LimitName): string | null {
  const max = limit(name);
  if (value.length > max) return `has ${value.length} characters; the limit is ${max} (${name})`;
  if (value.includes("\u0000")) return "contains a NUL character";
  return null;
}

/** checkStringLength throws InvalidInput naming `field` when `value` is longer than the limit or holds a NUL. */
export function checkStringLength(field: string, value: string | undefined | null, name: LimitName): void {
  if (value === undefined || value === null) return;
  const problem = textProblem(value, name);
  if (problem) throw new InvalidInput(`${field} ${problem}`, field);
}

/** checkMaxValue throws InvalidInput naming `field` when `value` is above the limit. */
export function checkMaxValue(field: string, value: number | undefined, name: LimitName): void {
  const max = limit(name);
  if (value !== undefined && value > max) {
    throw new InvalidInput(`${field} is ${value}; the limit is ${max} ${LIMITS[name].unit} (${name})`, field);
  }
}

/** utf8Bytes is the UTF-8 size of a string (what a database stores). */
export function utf8Bytes(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** formatBytes renders a byte count for messages (e.g. "4 MiB"). */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
