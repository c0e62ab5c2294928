/**
 * Ingest benchmark: a simulated run streamed through the real TypeScript client (one gRPC stream per
 * rank) into real collector processes with durable acks, on a fresh database, as fast as it goes.
 *
 *   npx tsx bench/ingest.ts [--ranks 64] [--steps 100] [--experts 8 --layers 32 --pp 4 --ep 8]
 *                           [--collectors 1] [--database postgresql://postgres@127.0.0.1:5432/postgres]
 *
 * --database names a PostgreSQL server: a fresh database is created on it and dropped afterwards.
 * Without it a fresh SQLite file is used. With several collectors the ranks are spread over them.
 * Numbers vary with machine load: compare runs made together.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { TelemetryClient } from "../lib/client/TelemetryClient";
import { createSimulation } from "../lib/sim/createSimulation";

const { values } = parseArgs({
  options: {
    ranks: { type: "string", default: "64" },
    steps: { type: "string", default: "100" },
    experts: { type: "string", default: "8" },
    topk: { type: "string", default: "2" },
    layers: { type: "string", default: "32" },
    pp: { type: "string", default: "4" },
    ep: { type: "string", default: "8" },
    collectors: { type: "string", default: "1" },
    database: { type: "string" },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);
const root = path.resolve(import.meta.dirname, "..");

let url: string;
let cleanup: () => Promise<void>;
if (values.database) {
  const u = new URL(values.database);
  const name = `moe_bench_${process.pid}`;
  u.pathname = `/${name}`;
  url = u.toString();
  cleanup = async () => {
    const admin = new pg.Client({ connectionString: values.database });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  };
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moe-bench-"));
  url = `file:${path.join(dir, "bench.db")}`;
  cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
}

function startCollector(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(root, "bin/moe-telemetry.mjs"), "collector", "--host", "127.0.0.1", "--port", "0", "--database", url], {
    cwd: root,
    // Info level: the "listening on" line is how we know the port.
    env: { ...process.env, LOG_LEVEL: "info", INGEST_AUTH: "off" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("collector did not start within 60 s")), 60_000);
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on [^"]*:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on("exit", (code) => reject(new Error(`collector exited with ${code}`)));
  });
}

const collectors: Array<{ child: ChildProcess; port: number }> = [];
for (let i = 0; i < n("collectors"); i++) collectors.push(await startCollector());
const sim = createSimulation({
  ranks: n("ranks"), steps: n("steps"), scenario: "balanced", seed: 1, numExperts: n("experts"), topk: n("topk"),
  numLayers: n("layers"), ep: n("ep"), pp: n("pp"),
});
const client = new TelemetryClient(collectors.map((c) => `127.0.0.1:${c.port}`));
await client.registerRun({
  runKey: "bench", name: "bench", config: sim.config, worldSize: sim.worldSize, gpusPerNode: sim.gpusPerNode,
  gpuMemoryBytes: sim.gpuMemoryBytes, framework: "simulator", frameworkVersion: "bench", simulated: true, commandLine: [],
});
const streams = sim.ranks.map((r) => client.openStream("bench", r, { startAt: r.rank }));
// Generate first so the measurement is the pipeline, not the simulator.
const steps = Array.from({ length: n("steps") }, (_, i) => sim.step(i + 1));
let reports = 0;
let counts = 0;
const t0 = performance.now();
for (const s of steps) {
  sim.ranks.forEach((r, i) => {
    const layers = s.layers.get(r.rank) ?? [];
    const sample = s.samples.get(r.rank);
    streams[i].send(layers, sample ? [sample] : []);
    reports += layers.length;
    for (const l of layers) counts += l.tokensPerExpert.length;
  });
  // A bounded backlog, as a real client's buffer keeps.
  if (Math.max(...streams.map((st) => st.pending())) > 32) await Promise.all(streams.map((st) => st.acked()));
}
await Promise.all(streams.map((st) => st.close(120_000)));
const seconds = (performance.now() - t0) / 1000;
client.close();
for (const c of collectors) c.child.kill("SIGTERM");
await Promise.all(collectors.map((c) => new Promise((r) => c.child.once("exit", r))));
const bytes = url.startsWith("file:") ? fs.statSync(url.slice(5)).size : null;
await cleanup();
console.log(
  JSON.stringify({
    database: url.startsWith("file:") ? "sqlite" : "postgresql",
    collectors: collectors.length,
    shape: { ranks: n("ranks"), experts: n("experts"), layers: n("layers"), pp: n("pp"), ep: n("ep") },
    steps: steps.length,
    layerReports: reports,
    seconds: +seconds.toFixed(2),
    reportsPerSecond: Math.round(reports / seconds),
    countsPerSecond: Math.round(counts / seconds),
    ...(bytes === null ? {} : { sqliteBytesPerCount: +(bytes / counts).toFixed(2) }),
  }),
);
