/**
 * The product under test, as a user runs it: `moe-telemetry collector` (gRPC only) or `moe-telemetry serve`
 * (collector + dashboard API) as a real process on a temporary SQLite file, with ingest tokens and the
 * dashboard login off, fed by lib/client/TelemetryClient.ts as one stream per rank.
 */
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import type { LayerReport, StepSample } from "../../lib/analysis/types";
import { TelemetryClient, type RankStream } from "../../lib/client/TelemetryClient";
import { cpuSeconds, diskBytes, freePort, REPO_ROOT, startCliProcess, tempDir, waitForMatch, type Child } from "./proc";
import { runInfoOf, type Dataset } from "./shapes";

/** Product: a running collector (and with `serve`, the dashboard) of this bench. */
export interface Product {
  proc: Child;
  /** gRPC address of the collector. */
  grpc: string;
  /** Dashboard base URL (serve only). */
  http?: string;
  /** The SQLite file ("" on PostgreSQL). */
  dbFile: string;
  stop(): Promise<void>;
}

/** requireBuild fails with the fix when the dashboard is not built (serve needs it). */
export function requireBuild(): void {
  if (!fs.existsSync(path.join(REPO_ROOT, ".next", "BUILD_ID"))) {
    throw new Error("the dashboard is not built: run `npm run build` first (this bench queries the product's HTTP API)");
  }
}

/**
 * startProduct starts `collector` or `serve` on free loopback ports and a fresh database: a temporary
 * SQLite file, or with `postgres` (a server URL) a fresh database on that server, dropped on stop.
 */
export async function startProduct(mode: "collector" | "serve", opts: { postgres?: string; env?: Record<string, string> } = {}): Promise<Product> {
  const dir = tempDir("moe-bench-db-");
  const dbFile = path.join(dir, "bench.db");
  let url = `file:${dbFile}`;
  let dropDatabase = async () => {};
  if (opts.postgres) {
    const u = new URL(opts.postgres);
    const name = `moe_bench_${process.pid}_${Date.now()}`;
    u.pathname = `/${name}`;
    url = u.toString();
    dropDatabase = async () => {
      const admin = new pg.Client({ connectionString: opts.postgres });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    };
  }
  const envAll = { INGEST_AUTH: "off", DASHBOARD_AUTH: "off", LOG_LEVEL: "info", ...opts.env };
  let proc: Child;
  let grpc: string;
  let http: string | undefined;
  if (mode === "collector") {
    proc = startCliProcess(["collector", "--host", "127.0.0.1", "--port", "0", "--database", url], envAll);
    const m = await waitForMatch(proc, /collector listening on [^"]*:(\d+)/, 120_000);
    grpc = `127.0.0.1:${m[1]}`;
  } else {
    requireBuild();
    const port = await freePort();
    const collectorPort = await freePort();
    proc = startCliProcess(
      ["serve", "--port", String(port), "--collector-port", String(collectorPort), "--collector-host", "127.0.0.1", "--database", url],
      envAll,
    );
    await waitForMatch(proc, /dashboard listening on/, 180_000);
    grpc = `127.0.0.1:${collectorPort}`;
    http = `http://127.0.0.1:${port}`;
  }
  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= proc.stop(30_000).then(dropDatabase));
  return { proc, grpc, http, dbFile: opts.postgres ? "" : dbFile, stop };
}

/** databaseBytes: the SQLite file with its WAL and shared-memory files (NaN on PostgreSQL). */
export function databaseBytes(p: Product): number {
  if (!p.dbFile) return Number.NaN;
  return ["", "-wal", "-shm"].reduce((a, s) => a + diskBytes(p.dbFile + s), 0);
}

/** IngestResult: one dataset streamed through a collector, acks included. */
export interface IngestResult {
  runId: string;
  counts: number;
  reports: number;
  seconds: number;
  /** CPU seconds of the receiving process (NaN when it is not a child of this bench). */
  cpuSeconds: number;
  /** Per step: ms from its last send to all its batches acked (paced runs only; empty otherwise). */
  ackLagMs: number[];
}

/**
 * streamDataset sends every step of a dataset through the TypeScript client: one stream per rank, one
 * batch per rank per step (what the Python client sends), or per `stepsPerBatch` steps (as Prometheus's
 * remote write batches samples; the protocol allows any steps in a batch). Unpaced, it goes as fast as acks
 * allow with a bounded backlog (32 batches per rank, as a real client's buffer); paced, it sends one step
 * every `stepIntervalMs` and records each step's ack lag. `receiverPid` is the process whose CPU is measured.
 */
export async function streamDataset(
  address: string,
  d: Dataset,
  opts: { runKey: string; receiverPid?: number; stepIntervalMs?: number; backlog?: number; stepsPerBatch?: number },
): Promise<IngestResult> {
  const stepsPerBatch = opts.stepsPerBatch ?? 1;
  if (!Number.isInteger(stepsPerBatch) || stepsPerBatch < 1) throw new Error(`stepsPerBatch must be a positive integer, got ${stepsPerBatch}`);
  if (stepsPerBatch > 1 && opts.stepIntervalMs) throw new Error("a paced run sends each step as it comes: stepsPerBatch must be 1");
  const client = new TelemetryClient(address);
  try {
    const { runId } = await client.registerRun(runInfoOf(d, opts.runKey));
    const streams: RankStream[] = d.sim.ranks.map((r) => client.openStream(opts.runKey, r, { startAt: r.rank }));
    const backlog = opts.backlog ?? 32;
    const cpu0 = opts.receiverPid ? cpuSeconds(opts.receiverPid) : Number.NaN;
    const ackLagMs: number[] = [];
    const lags: Array<Promise<void>> = [];
    let counts = 0;
    let reports = 0;
    // Per rank, the layer reports and step samples of the steps not sent yet.
    const held = d.sim.ranks.map(() => ({ layers: [] as LayerReport[], samples: [] as StepSample[] }));
    const t0 = performance.now();
    for (let i = 0; i < d.steps.length; i++) {
      const s = d.steps[i];
      if (opts.stepIntervalMs) {
        const due = t0 + i * opts.stepIntervalMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const sendNow = (i + 1) % stepsPerBatch === 0 || i === d.steps.length - 1;
      d.sim.ranks.forEach((r, k) => {
        const layers = s.layers.get(r.rank) ?? [];
        const sample = s.samples.get(r.rank);
        reports += layers.length;
        for (const l of layers) counts += l.tokensPerExpert.length;
        const h = held[k];
        h.layers.push(...layers);
        if (sample) h.samples.push(sample);
        if (sendNow) {
          streams[k].send(h.layers, h.samples);
          held[k] = { layers: [], samples: [] };
        }
      });
      if (opts.stepIntervalMs) {
        const sent = performance.now();
        lags.push(Promise.all(streams.map((st) => st.acked())).then(() => void (ackLagMs[i] = performance.now() - sent)));
      } else if (Math.max(...streams.map((st) => st.pending())) > backlog) {
        await Promise.all(streams.map((st) => st.acked()));
      }
    }
    await Promise.all(streams.map((st) => st.close(600_000)));
    await Promise.all(lags);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = opts.receiverPid ? cpuSeconds(opts.receiverPid) - cpu0 : Number.NaN;
    const rejected = streams.reduce((a, st) => a + st.rejected, 0);
    if (rejected > 0) throw new Error(`the collector rejected ${rejected} record(s): the bench's data is not what the product accepts`);
    return { runId, counts, reports, seconds, cpuSeconds: cpu, ackLagMs };
  } finally {
    client.close();
  }
}

/** queryProductHeatmap times GET /api/runs/{id}/heatmap/experts (one layer, all steps, `points` columns). */
export async function queryProductHeatmap(p: Product, runId: string, layer: number, points: number): Promise<{ seconds: number; bytes: number; columns: number; bucketSize: number; firstColumn: number[] }> {
  if (!p.http) throw new Error("queryProductHeatmap needs `serve`");
  const t0 = performance.now();
  const res = await fetch(`${p.http}/api/runs/${runId}/heatmap/experts?layer=${layer}&maxColumns=${points}`);
  const text = await res.text();
  const seconds = (performance.now() - t0) / 1000;
  if (!res.ok) throw new Error(`GET heatmap/experts: HTTP ${res.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { columns?: Array<{ load: number[] }>; bucketSize?: number };
  if (!Array.isArray(body.columns) || body.columns.length === 0) throw new Error(`GET heatmap/experts: no columns in ${text.slice(0, 200)}`);
  return { seconds, bytes: text.length, columns: body.columns.length, bucketSize: body.bucketSize ?? 1, firstColumn: body.columns[0].load };
}
