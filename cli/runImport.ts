/**
 * `moe-telemetry import <megatron-log|tensorboard|tokens-jsonl> <path>`: brings a run that was not
 * instrumented into the product. The file is parsed as a stream (with progress on stderr), the run is
 * registered, and everything goes through a collector like live data: --collector host:port, or an
 * in-process collector on --database (the default database), so validation and storage are the same.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { Collector } from "../collector/Collector";
import { deriveParallelSizes } from "../lib/analysis/deriveParallelSizes";
import { InvalidInput } from "../lib/analysis/errors";
import { formatBytes, limit } from "../lib/wire/limits";
import { rankCoordinates } from "../lib/analysis/rankCoordinates";
import type { LayerReport, RankInfo, ScalarPoint, StepSample } from "../lib/analysis/types";
import { TelemetryClient } from "../lib/client/TelemetryClient";
import { resolveImportConfig, type ImportOverrides } from "../lib/importers/importConfig";
import { importMegatronLogStream, importTensorBoardStream, importTokensJsonlStream } from "../lib/importers/importStream";
import type { TensorBoardPoint } from "../lib/importers/createTensorBoardCollector";
import type { TokenCountRecord } from "../lib/importers/parseTokensJsonl";
import { summarizeImport, type ImportSummaryInput } from "../lib/importers/summarizeImport";
import { openDatabase } from "../lib/store/db";

/** ImportKind: the formats `import` reads. */
export type ImportKind = "megatron-log" | "tensorboard" | "tokens-jsonl";

/** ImportOptions: the command's options. */
export interface ImportOptions extends ImportOverrides {
  run?: string;
  runKey?: string;
  collector?: string;
  database: string;
  config?: string;
  json?: boolean;
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

function progressPrinter(total: number, quiet: boolean): (bytes: number) => void {
  let last = 0;
  return (bytes) => {
    const now = Date.now();
    if (quiet || (now - last < 1_000 && bytes < total)) return;
    last = now;
    process.stderr.write(`reading ${total ? Math.round((100 * bytes) / total) : 100}% (${(bytes / BYTES_PER_MB).toFixed(1)} of ${(total / BYTES_PER_MB).toFixed(1)} MB)\n`);
  };
}

async function parseFile(kind: ImportKind, file: string, o: ImportOptions): Promise<Parsed> {
  const size = fs.statSync(file).size;
  // Checked before reading a byte; the stream importers enforce it (and the line and record limits) too.
  if (size > limit("maxImportBytes")) {
    throw new InvalidInput(`${file} is ${formatBytes(size)}; import reads at most ${formatBytes(limit("maxImportBytes"))} per file (maxImportBytes): split it`, "file");
  }
  const onProgress = (p: { bytes: number }) => progress(p.bytes);
  const progress = progressPrinter(size, !!o.json);
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

/** runImport is the `import` command. */
export async function runImport(kind: ImportKind, file: string, o: ImportOptions): Promise<void> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  const parsed = await parseFile(kind, file, o);
  const launchScript = o.config ? fs.readFileSync(o.config, "utf8") : undefined;
  const { config, worldSize, commandLine, layoutKnown } = resolveImportConfig(
    { argsBlock: parsed.argsBlock, launchScript },
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

  let local: { collector: Collector; close: () => Promise<void> } | null = null;
  let address = o.collector;
  if (!address) {
    const db = await openDatabase(o.database);
    // A private collector on loopback for this one import: no token to check.
    const collector = new Collector({ db, logger: pino({ level: "silent" }), auth: { mode: "off" } });
    const port = await collector.listen("127.0.0.1", 0);
    address = `127.0.0.1:${port}`;
    local = { collector, close: async () => { await collector.shutdown(1_000); await db.close(); } };
  }
  const rejected = new Map<string, number>();
  const client = new TelemetryClient(address, {
    clientName: "moe-telemetry-import/0.1",
    onRejected: (_rank, _seq, r) => rejected.set(r.reason, (rejected.get(r.reason) ?? 0) + 1),
  });
  try {
    const reg = await client.registerRun({
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
      const stream = client.openStream(runKey, rankInfo(rank));
      const scalars = rank === 0 ? parsed.scalars : [];
      const samples = parsed.samples.get(rank) ?? [];
      const reps = parsed.reports.get(rank) ?? [];
      for (let i = 0; i < scalars.length; i += 2_000) stream.send([], [], 0, scalars.slice(i, i + 2_000));
      for (let i = 0; i < samples.length; i += 500) stream.send([], samples.slice(i, i + 500));
      // Keep each message well under the collector's 4 MiB limit (LIMITS.maxMessageBytes): up to ~10 bytes per count.
      const perBatch = Math.max(1, Math.min(500, Math.floor(limit("maxMessageBytes") / 2 / (10 * Math.max(1, reps[0]?.tokensPerExpert.length ?? 1) + 64))));
      for (let i = 0; i < reps.length; i += perBatch) stream.send(reps.slice(i, i + perBatch), []);
      for (const x of [...scalars, ...samples, ...reps]) lastStep = Math.max(lastStep, x.step);
      await stream.close(120_000);
    }
    await client.reportEvent(runKey, 0, "FINISHED", lastStep, `imported from ${base}`);
    const summary = summarizeImport(parsed.summary);
    // Corrupt input: what came before the damage is stored; the exit code says the file was not whole.
    const fatal = parsed.summary.kind === "tensorboard" ? parsed.summary.result.framing.fatal : null;
    if (fatal) {
      process.stderr.write(`error: ${file}: reading stopped at byte ${fatal.offset}: ${fatal.reason}; everything before it was imported\n`);
      process.exitCode = 2;
    }
    const stored = {
      scalars: parsed.scalars.length,
      memorySamples: [...parsed.samples.entries()].filter(([r]) => ranks.has(r)).reduce((n, [, l]) => n + l.length, 0),
      layerReports: [...parsed.reports.entries()].filter(([r]) => ranks.has(r)).reduce((n, [, l]) => n + l.length, 0),
    };
    const refused = [...rejected.entries()].map(([reason, count]) => ({ reason, count }));
    const refusedTotal = refused.reduce((n, r) => n + r.count, 0);
    const ps = parsed.summary;
    const read =
      ps.kind === "megatron-log"
        ? { bytes: fs.statSync(file).size, lines: ps.result.lines }
        : ps.kind === "tensorboard"
          ? { bytes: fs.statSync(file).size, records: ps.result.framing.records, events: ps.result.events }
          : { bytes: fs.statSync(file).size, lines: ps.result.lines, records: ps.result.records };
    if (o.json) {
      const { text: _text, ...rest } = summary;
      const warnings = layoutKnown ? rest.warnings : [...rest.warnings, LAYOUT_UNKNOWN_NOTE];
      console.log(JSON.stringify({ runId: reg.runId, runKey, worldSize, layoutKnown, read, ...rest, warnings, sent: stored, rejectedByCollector: refused }));
    } else {
      console.log(summary.text);
      if (!layoutKnown) console.log(LAYOUT_UNKNOWN_NOTE);
      console.log(
        `run ${runKey} (${reg.runId}): sent ${stored.scalars} series points, ${stored.memorySamples} memory samples, ${stored.layerReports} layer reports` +
          (refusedTotal ? `; the collector refused ${refusedTotal}: ${refused.map((r) => `${r.count} x ${r.reason}`).join("; ")}` : ""),
      );
    }
  } finally {
    client.close();
    await local?.close();
  }
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
