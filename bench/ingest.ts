/**
 * Ingest benchmark: the simulator's Mixtral-like run (or another shape) streamed through the real
 * TypeScript client into a real collector with durable acks on a fresh SQLite file, as fast as it
 * goes. Prints reports/s and counts/s. Run: npx tsx bench/ingest.ts [--ranks 64] [--steps 200]
 * [--experts 8 --layers 32 --pp 4 --ep 8]. Numbers vary with machine load: compare runs made together.
 */
import { parseArgs } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { Collector } from "../collector/Collector";
import { simulateRun } from "../cli/runSimulate";
import { openDatabase } from "../lib/server/db";

const { values } = parseArgs({
  options: {
    ranks: { type: "string", default: "64" },
    steps: { type: "string", default: "200" },
    experts: { type: "string", default: "8" },
    topk: { type: "string", default: "2" },
    layers: { type: "string", default: "32" },
    pp: { type: "string", default: "4" },
    ep: { type: "string", default: "8" },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moe-bench-"));
const db = await openDatabase(`file:${path.join(dir, "bench.db")}`);
const collector = new Collector({ db, logger: pino({ level: "silent" }) });
const port = await collector.listen("127.0.0.1", 0);
const cpu0 = process.cpuUsage();
const s = await simulateRun({
  collector: `127.0.0.1:${port}`, ranks: n("ranks"), steps: n("steps"), scenario: "balanced", experts: n("experts"), topk: n("topk"),
  layers: n("layers"), ep: n("ep"), pp: n("pp"), tp: 1, cp: 1, seed: 1, stepIntervalMs: 0,
});
const cpu = process.cpuUsage(cpu0);
await collector.shutdown(1_000);
await db.close();
const bytes = fs.statSync(path.join(dir, "bench.db")).size;
console.log(
  JSON.stringify({
    shape: { ranks: n("ranks"), experts: n("experts"), layers: n("layers"), pp: n("pp"), ep: n("ep") },
    steps: s.steps,
    layerReports: s.layerReports,
    counts: s.counts,
    seconds: +s.seconds.toFixed(2),
    reportsPerSecond: Math.round(s.reportsPerSecond),
    countsPerSecond: Math.round(s.countsPerSecond),
    // Client, simulator and collector share this process: CPU is the whole pipeline's.
    processCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
    databaseBytes: bytes,
    bytesPerCount: +(bytes / s.counts).toFixed(2),
  }),
);
fs.rmSync(dir, { recursive: true, force: true });
