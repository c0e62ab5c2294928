/**
 * Imports a file of a run that was not instrumented (a Megatron log, a TensorBoard event file, a
 * tokens-per-expert JSONL dump): the file is parsed as a stream, the run's layout resolved, the run
 * registered, and every record sent through a sink that validates and stores it as live data is (the
 * collector over gRPC, or the same validation and writer on the database directly). The CLI's
 * `moe-telemetry import` and the dashboard's POST /api/import both call importFile.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { deriveParallelSizes } from "../analysis/deriveParallelSizes";
import { InvalidInput } from "../analysis/errors";
import { rankCoordinates } from "../analysis/rankCoordinates";
import type { LayerReport, RankInfo, RunInfo, ScalarPoint, StepSample } from "../analysis/types";
import { formatBytes, limit } from "../wire/limits";
import type { TensorBoardPoint } from "./createTensorBoardCollector";
import { resolveImportConfig, type ImportOverrides } from "./importConfig";
import { importMegatronLogStream, importTensorBoardStream, importTokensJsonlStream } from "./importStream";
import type { TokenCountRecord } from "./parseTokensJsonl";
import { summarizeImport, type ImportSummaryInput } from "./summarizeImport";

/** ImportKind: the formats `import` reads. */
export type ImportKind = "megatron-log" | "tensorboard" | "tokens-jsonl";

/** ImportFileOptions: what the caller says about the run (the CLI's flags, the dashboard's form fields). */
export interface ImportFileOptions extends ImportOverrides {
  /** Display name (default: the file's name). */
  run?: string;
  /** Run key (default: derived from the file's real path, so importing the same file again is idempotent). */
  runKey?: string;
  /** Launch script text (or argv), for the layout when the log has no arguments block. */
  launchScript?: string;
  /** Called with bytes read so far, at most about once a second. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/** Everything parsed from the file, per rank, before it is sent. */
interface Parsed {
  summary: ImportSummaryInput;
  argsBlock: Record<string, string> | null;
  scalars: ScalarPoint[];
  samples: Map<number, StepSample[]>;
  reports: Map<number, LayerReport[]>;
  /** For tokens-jsonl: what the records imply about the model. */
  implied: ImportOverrides;
}

const BYTES_PER_MB = 1024 * 1024;

function throttledProgress(total: number, report: ((bytes: number, total: number) => void) | undefined): (bytes: number) => void {
  let last = 0;
  return (bytes) => {
    const now = Date.now();
    if (!report || (now - last < 1_000 && bytes < total)) return;
    last = now;
    report(bytes, total);
  };
}

async function parseFile(kind: ImportKind, file: string, o: ImportFileOptions): Promise<Parsed> {
  const size = fs.statSync(file).size;
  // Checked before reading a byte; the stream importers enforce it (and the line and record limits) too.
  if (size > limit("maxImportBytes")) {
    throw new InvalidInput(`${file} is ${formatBytes(size)}; import reads at most ${formatBytes(limit("maxImportBytes"))} per file (maxImportBytes): split it`, "file");
  }
  const onProgress = (p: { bytes: number }) => progress(p.bytes);
  const progress = throttledProgress(size, o.onProgress);
  const stream = fs.createReadStream(file);
  const samples = new Map<number, StepSample[]>();
  const reports = new Map<number, LayerReport[]>();
  const scalars: ScalarPoint[] = [];
  if (kind === "megatron-log") {
    const result = await importMegatronLogStream(stream, { onProgress });
    for (const it of result.iterations) {
      if (it.lmLoss !== undefined) scalars.push({ step: it.iteration, name: "lm loss", layer: 0, value: it.lmLoss });
      for (const [name, value] of Object.entries(it.losses)) scalars.push({ step: it.iteration, name, layer: 0, value });
      if (it.iterationTimeMs !== undefined) scalars.push({ step: it.iteration, name: "iteration time (ms)", layer: 0, value: it.iterationTimeMs });
      if (it.learningRate !== undefined) scalars.push({ step: it.iteration, name: "learning rate", layer: 0, value: it.learningRate });
      if (it.gradNorm !== undefined) scalars.push({ step: it.iteration, name: "grad norm", layer: 0, value: it.gradNorm });
      if (it.lossScale !== undefined) scalars.push({ step: it.iteration, name: "loss scale", layer: 0, value: it.lossScale });
    }
    const seen = new Set<string>();
    for (const m of result.memory) {
      const key = `${m.rank}/${m.iteration}`;
      if (seen.has(key) || !m.label.startsWith("after")) continue; // one sample per rank and step; checkpoint lines are extra
      seen.add(key);
      const list = samples.get(m.rank) ?? [];
      list.push({
        step: m.iteration,
        memory: {
          allocatedBytes: Math.round(m.allocatedMB * BYTES_PER_MB),
          reservedBytes: Math.round(m.reservedMB * BYTES_PER_MB),
          peakAllocatedBytes: Math.round(m.maxAllocatedMB * BYTES_PER_MB),
          numOoms: 0,
          numAllocRetries: 0,
        },
      });
      samples.set(m.rank, list);
    }
    return { summary: { kind, result }, argsBlock: result.arguments, scalars, samples, reports, implied: {} };
  }
  if (kind === "tensorboard") {
    const result = await importTensorBoardStream(stream, {
      onProgress,
      onPoints: (points: TensorBoardPoint[]) => {
        for (const p of points) {
          const s = p.series;
          if (s.kind === "vs_samples" || s.kind === "other") continue;
          const layer = s.kind === "router_loss" ? (s.layer ?? 0) : s.kind === "moe_layer_metric" ? s.layer : 0;
          const name = s.kind === "memory" ? `mem-${s.name}` : s.name;
          scalars.push({ step: p.step, name, layer, value: p.value });
        }
      },
    });
    return { summary: { kind, result }, argsBlock: null, scalars, samples, reports, implied: {} };
  }
  let experts = 0;
  let maxLayer = 0;
  // Megatron writes one dump per rank (tokens_per_expert/rank<R>.jsonl): the file name gives the rank.
  const fileRank = /rank[_-]?(\d+)/i.exec(path.basename(file));
  const result = await importTokensJsonlStream(stream, {
    onProgress,
    onRecords: (records: TokenCountRecord[]) => {
      for (const r of records) {
        experts = r.tokensPerExpert.length;
        maxLayer = Math.max(maxLayer, r.layer);
        const rank = r.rank ?? (fileRank ? Number(fileRank[1]) : 0);
        const list = reports.get(rank) ?? [];
        list.push({ step: r.iteration, layer: r.layer, microBatches: 1, tokens: 0, tokensPerExpert: r.tokensPerExpert, losses: {} });
        reports.set(rank, list);
      }
    },
  });
  return { summary: { kind, result }, argsBlock: null, scalars, samples, reports, implied: { experts, layers: maxLayer } };
}

const LAYOUT_UNKNOWN_NOTE =
  "MoE layout unknown: the log printed no arguments block, so the run-level series were imported without layers, " +
  "experts or top-k; import again with --config <launch script> (or --layers/--experts/--topk) to add the layout.";

/** ImportSink: where an import's records go (a collector over gRPC, or the database directly). */
export interface ImportSink {
  /** Registers (or finds) the run; idempotent on its key. */
  registerRun(info: RunInfo): Promise<{ runId: string }>;
  /** Stores one rank's records; `onRejected` hears each record refused, with the reason. */
  sendRank(runKey: string, rank: RankInfo, records: RankRecords, onRejected: (reason: string) => void): Promise<void>;
  /** Marks the run finished at `step`. */
  finish(runKey: string, step: number, message: string): Promise<void>;
}

/** RankRecords: what one rank sends. */
export interface RankRecords {
  scalars: ScalarPoint[];
  samples: StepSample[];
  reports: LayerReport[];
}

/** ImportFileResult: the JSON summary (what `import --json` prints and the dashboard answers), the text, and fatal read errors. */
export interface ImportFileResult {
  summary: Record<string, unknown> & { runId: string; runKey: string };
  text: string;
  /** The file was not whole: what came before the damage is stored. */
  errors: string[];
}

/** importFile parses `file`, registers its run and sends every record through `sink`. */
export async function importFile(kind: ImportKind, file: string, o: ImportFileOptions, sink: ImportSink): Promise<ImportFileResult> {
  if (!fs.existsSync(file)) throw new InvalidInput(`${file}: no such file`, "file");
  const parsed = await parseFile(kind, file, o);
  const { config, worldSize, commandLine, layoutKnown } = resolveImportConfig(
    { argsBlock: parsed.argsBlock, launchScript: o.launchScript },
    { ...parsed.implied, ...dropUndefined({ experts: o.experts, layers: o.layers, topk: o.topk, worldSize: o.worldSize }) },
  );
  // T_local is not in a token dump: with dropless routing every token has k assignments.
  for (const list of parsed.reports.values()) {
    for (const r of list) {
      const sum = r.tokensPerExpert.reduce((a, b) => a + b, 0);
      r.tokens = Math.max(Math.ceil(sum / config.moe_router_topk), ...r.tokensPerExpert);
    }
  }
  const sizes = deriveParallelSizes(config, worldSize);
  const base = path.basename(file);
  const runKey = o.runKey ?? `import-${base}-${createHash("sha256").update(fs.realpathSync(file)).digest("hex").slice(0, 8)}`;
  const rejected = new Map<string, number>();
  const onRejected = (reason: string) => rejected.set(reason, (rejected.get(reason) ?? 0) + 1);

  const reg = await sink.registerRun({
    runKey,
    name: o.run ?? base,
    config,
    worldSize,
    gpusPerNode: 8,
    gpuMemoryBytes: 0,
    framework: `megatron (imported from ${kind})`,
    frameworkVersion: "",
    simulated: false,
    commandLine,
  });
  const rankInfo = (rank: number): RankInfo => ({
    rank,
    host: "imported",
    device: "",
    coords: rankCoordinates(rank, { tp: sizes.tp, cp: sizes.cp, dp: sizes.dp, pp: sizes.pp, ep: sizes.ep, etp: sizes.etp, edp: sizes.edp }),
  });
  const ranks = new Set<number>([0, ...parsed.samples.keys(), ...parsed.reports.keys()].filter((r) => r >= 0 && r < worldSize));
  const outside = [...parsed.samples.keys(), ...parsed.reports.keys()].filter((r) => r < 0 || r >= worldSize);
  for (const r of new Set(outside)) rejected.set(`rank ${r} is outside the world size ${worldSize}`, 1);
  let lastStep = 0;
  for (const rank of ranks) {
    const records = { scalars: rank === 0 ? parsed.scalars : [], samples: parsed.samples.get(rank) ?? [], reports: parsed.reports.get(rank) ?? [] };
    await sink.sendRank(runKey, rankInfo(rank), records, onRejected);
    for (const x of [...records.scalars, ...records.samples, ...records.reports]) lastStep = Math.max(lastStep, x.step);
  }
  await sink.finish(runKey, lastStep, `imported from ${base}`);

  const summary = summarizeImport(parsed.summary);
  // Corrupt input: what came before the damage is stored; the caller says the file was not whole.
  const fatal = parsed.summary.kind === "tensorboard" ? parsed.summary.result.framing.fatal : null;
  const errors = fatal ? [`${file}: reading stopped at byte ${fatal.offset}: ${fatal.reason}; everything before it was imported`] : [];
  const sent = {
    scalars: parsed.scalars.length,
    memorySamples: [...parsed.samples.entries()].filter(([r]) => ranks.has(r)).reduce((n, [, l]) => n + l.length, 0),
    layerReports: [...parsed.reports.entries()].filter(([r]) => ranks.has(r)).reduce((n, [, l]) => n + l.length, 0),
  };
  const refused = [...rejected.entries()].map(([reason, count]) => ({ reason, count }));
  const refusedTotal = refused.reduce((n, r) => n + r.count, 0);
  const ps = parsed.summary;
  const bytes = fs.statSync(file).size;
  const read =
    ps.kind === "megatron-log"
      ? { bytes, lines: ps.result.lines }
      : ps.kind === "tensorboard"
        ? { bytes, records: ps.result.framing.records, events: ps.result.events }
        : { bytes, lines: ps.result.lines, records: ps.result.records };
  const { text: summaryText, ...rest } = summary;
  const warnings = layoutKnown ? rest.warnings : [...rest.warnings, LAYOUT_UNKNOWN_NOTE];
  const text = [
    summaryText,
    ...(layoutKnown ? [] : [LAYOUT_UNKNOWN_NOTE]),
    `run ${runKey} (${reg.runId}): sent ${sent.scalars} series points, ${sent.memorySamples} memory samples, ${sent.layerReports} layer reports` +
      (refusedTotal ? `; the collector refused ${refusedTotal}: ${refused.map((r) => `${r.count} x ${r.reason}`).join("; ")}` : ""),
  ].join("\n");
  return {
    summary: { runId: reg.runId, runKey, worldSize, layoutKnown, read, ...rest, warnings, sent, rejectedByCollector: refused },
    text,
    errors,
  };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
