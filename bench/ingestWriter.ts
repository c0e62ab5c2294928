/**
 * The collector's write path alone: each shape's simulated batches handed to `writeBatches` (the function
 * the collector's flush calls) on a fresh SQLite file, in flushes of `--flush` batches, with no gRPC and no
 * alert evaluation around it. Prints the CPU it costs per report and per count, and the bytes each table
 * keeps per count, so a change to the write path or the storage layout is measured on its own. The end to
 * end numbers, gRPC and acks included, are bench:ingest's.
 *
 *   npm run bench:writer -- [--shapes a,b,b1,c] [--steps N | --samples 4000000] [--flush 256] [--smoke]
 *
 * Numbers vary with machine load; CPU seconds vary less than wall seconds.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { openDatabase } from "../lib/store/db";
import { writeBatches, type PendingBatch } from "../lib/store/ingestStore";
import { registerRun, upsertRank } from "../lib/store/runsRepo";
import { benchArgs, runBench, stepsFor } from "./lib/cli";
import { makeDataset, parseShapes, runInfoOf, type Dataset } from "./lib/shapes";
import { num, printTable, rate } from "./lib/table";

const args = benchArgs({ flush: { type: "string", default: "256" } });
const perFlush = Number(args.flush);
if (!Number.isInteger(perFlush) || perFlush < 1) throw new Error(`--flush must be a positive integer, got ${args.flush}`);

interface WriterResult {
  reports: number;
  counts: number;
  flushes: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** Bytes per table (dbstat), after the run, checkpointed. */
  tables: Map<string, number>;
  fileBytes: number;
}

async function writeDataset(d: Dataset): Promise<WriterResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moe-bench-writer-"));
  const file = path.join(dir, "bench.db");
  try {
    const db = await openDatabase(`file:${file}`);
    const { run } = await registerRun(db, runInfoOf(d, `writer-${d.shape.name}`));
    for (const r of d.sim.ranks) await upsertRank(db, run.id, r, "bench");
    // One batch per rank per step, as the bench's client sends; cut into flushes before the clock starts.
    const flushes: PendingBatch[][] = [[]];
    let seq = 0;
    let reports = 0;
    let counts = 0;
    for (const s of d.steps) {
      for (const r of d.sim.ranks) {
        const layers = s.layers.get(r.rank) ?? [];
        const sample = s.samples.get(r.rank);
        if (flushes[flushes.length - 1].length >= perFlush) flushes.push([]);
        flushes[flushes.length - 1].push({ run, rank: r.rank, seq: ++seq, layers, steps: sample ? [sample] : [], droppedBatches: 0 });
        reports += layers.length;
        for (const l of layers) counts += l.tokensPerExpert.length;
      }
    }
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const f of flushes) await writeBatches(db, f, Date.now());
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await db.close();
    const raw = new Database(file);
    const tables = new Map<string, number>();
    try {
      for (const row of raw.prepare(`SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name`).all() as Array<{ name: string; bytes: number }>) {
        tables.set(row.name, row.bytes);
      }
    } finally {
      raw.close();
    }
    return { reports, counts, flushes: flushes.length, wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, tables, fileBytes: fs.statSync(file).size };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes of a table and its indexes (SQLite names them <table>_..._idx and sqlite_autoindex_<table>_N). */
function tableBytes(tables: Map<string, number>, table: string): number {
  let sum = 0;
  for (const [name, bytes] of tables) {
    if (name === table || name.startsWith(`${table}_`) || name.startsWith(`sqlite_autoindex_${table}_`)) sum += bytes;
  }
  return sum;
}

runBench("bench:writer", async () => {
  const rows: Array<Array<string | number>> = [];
  for (const shape of parseShapes(args.shapes ?? (args.smoke ? "a" : "a,b,b1,c"))) {
    const steps = stepsFor(shape, args);
    const r = await writeDataset(makeDataset(shape, steps));
    const perCount = (table: string) => num(tableBytes(r.tables, table) / r.counts, 2);
    rows.push([
      shape.label, steps, num(r.counts), r.flushes,
      rate(r.counts / r.wallSeconds), rate(r.counts / r.cpuSeconds), num((r.cpuSeconds * 1e6) / r.reports, 1),
      num(r.fileBytes / r.counts, 2), perCount("LayerReport"), perCount("StepSample"), perCount("LayerAggregate"),
    ]);
  }
  printTable(
    `writeBatches alone on SQLite, 64 ranks, ${perFlush} batches per flush (no gRPC, no alerts)`,
    ["shape", "steps", "counts", "flushes", "counts/s", "counts per CPU-s", "CPU µs per report", "file bytes/count", "LayerReport", "StepSample", "LayerAggregate"],
    rows,
  );
});
