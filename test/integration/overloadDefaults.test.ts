/**
 * Overload with the collector's DEFAULT settings (issue 18.5): the real `moe-telemetry collector` process,
 * nothing lowered, gets a burst of streaming ranks and unary writers offering ten times its default
 * pending-bytes bound (64 MiB) at once. It must answer RESOURCE_EXHAUSTED with a retry hint instead of
 * growing, its RSS (sampled from /proc/<pid>/status, and the kernel's peak VmHWM) must stay under the bound
 * documented in README "Limits and overload", and every acknowledged record must be stored.
 */
import fs from "node:fs";
import type { ChildProcess } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ADMISSION, estimateBatchBytes } from "../../collector/admission";
import { TelemetryClient, retryDelayMs } from "../../lib/client/TelemetryClient";
import { layerReportToWire } from "../../lib/wire/protoMapping";
import { openDatabase, type Db } from "../../lib/store/db";
import type { LayerReport, RunInfo } from "../../lib/analysis/types";
import { spawnCollector, tempDatabaseUrl, TEST_DIALECT, flatDpRank } from "./harness";

/** RSS_BOUND_MB: the documented bound on the collector's RSS with default settings (COLLECTOR_MAX_RSS_BYTES, README). */
const RSS_BOUND_MB = DEFAULT_ADMISSION.maxRssBytes / 2 ** 20;
const EXPERTS = 256;
const LAYERS = 16;
const STEPS_PER_BATCH = 16;
const WRITERS = 152;
const WRITES_EACH = 2;
const STREAMS = 64;
const BATCHES_PER_STREAM = 4;
/** How long streams wait for their acks before the test stops them (runtime bound, not a speed claim). */
const STREAM_ACK_MS = 10_000;

const run: RunInfo = {
  runKey: "burst-defaults",
  name: "burst with default settings",
  config: { num_layers: LAYERS, num_experts: EXPERTS, moe_router_topk: 2, tensor_model_parallel_size: 1, pipeline_model_parallel_size: 1, context_parallel_size: 1, expert_model_parallel_size: 8 },
  worldSize: WRITERS + STREAMS,
  gpusPerNode: 8,
  gpuMemoryBytes: 80 * 2 ** 30,
  framework: "test",
  frameworkVersion: "0",
  simulated: false,
  commandLine: [],
};

const rankInfo = flatDpRank;

function layerReport(rank: number, step: number, layer: number): LayerReport {
  // 1,024 tokens top-2: counts sum to 2,048 and depend on (rank, step, layer).
  const base = 2048 / EXPERTS;
  const shift = (rank + step + layer) % base;
  const tokensPerExpert = Array.from({ length: EXPERTS }, (_, e) => base + (e % 2 === 0 ? shift : -shift));
  return { step, layer, microBatches: 1, tokens: 1024, tokensPerExpert, losses: { load_balancing_loss: 1.01 } };
}

function batchOf(rank: number, b: number): { steps: number[]; layers: LayerReport[] } {
  const steps = Array.from({ length: STEPS_PER_BATCH }, (_, i) => 1 + b * STEPS_PER_BATCH + i);
  return { steps, layers: steps.flatMap((s) => Array.from({ length: LAYERS }, (_, l) => layerReport(rank, s, l + 1))) };
}

function readStatus(pid: number): { rssMb: number; hwmMb: number } {
  const text = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
  return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
}

describe.skipIf(TEST_DIALECT === "postgresql")("overload with default settings: a 10x burst against the collector process", () => {
  let child: ChildProcess;
  let port: number;
  let db: Db;
  const url = tempDatabaseUrl();

  beforeAll(async () => {
    // Nothing lowered: the defaults are what is under test.
    ({ child, port } = await spawnCollector(url, 0, {}));
    db = await openDatabase(url);
  });
  afterAll(async () => {
    child?.kill("SIGTERM");
    await db?.close();
  });

  it(`refuses with RESOURCE_EXHAUSTED and a hint, stays under ${RSS_BOUND_MB} MB RSS, and stores every acknowledged record`, async () => {
    const address = `127.0.0.1:${port}`;
    const setup = new TelemetryClient(address);
    await setup.registerRun(run);
    setup.close();

    // What the burst offers, in the collector's own estimate of decoded memory: at least 10x its default bound.
    const one = batchOf(0, 0);
    const perBatch = estimateBatchBytes({ layers: one.layers.map(layerReportToWire), steps: [], scalars: [] } as never);
    const offered = perBatch * (WRITERS * WRITES_EACH + STREAMS * BATCHES_PER_STREAM);
    expect(offered).toBeGreaterThan(10 * DEFAULT_ADMISSION.maxPendingBytes);

    const before = readStatus(child.pid!);
    let peakRss = before.rssMb;
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, readStatus(child.pid!).rssMb);
      } catch {
        clearInterval(sampler);
      }
    }, 50);
    let exhausted = 0;
    const hints: number[] = [];
    let streamRefusals = 0;
    const started = Date.now();
    let writersDone = 0;
    let streamBatchesAcked = 0;
    // Writers retry as hinted, a bounded number of times; streams get a bounded time for their acks. The
    // burst measures memory and refusals, not throughput: what was acknowledged must be stored, whatever
    // the rest did.
    const writers = Array.from({ length: WRITERS }, () => new TelemetryClient(address, { overloadRetries: 0, deadlineMs: 60_000 }));
    const streamer = new TelemetryClient(address, { onReconnect: () => streamRefusals++ });
    const ackedLayers: number[] = [];
    try {
      const writeOne = async (client: TelemetryClient, rank: number, b: number) => {
        const { steps, layers } = batchOf(rank, b);
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            await client.write(run.runKey, rankInfo(rank), b + 1, layers, steps.map((step) => ({ step, iterationTimeMs: 1000 })));
            ackedLayers.push(layers.length);
            return;
          } catch (err) {
            const e = err as grpc.ServiceError;
            expect(e.code, e.details).toBe(grpc.status.RESOURCE_EXHAUSTED);
            exhausted++;
            hints.push(Number(e.metadata.get("retry-after-ms")[0]));
            await new Promise((r) => setTimeout(r, retryDelayMs(err, attempt, [50, 2_000])));
          }
        }
      };
      const streamOne = async (rank: number) => {
        const stream = streamer.openStream(run.runKey, rankInfo(rank));
        for (let b = 0; b < BATCHES_PER_STREAM; b++) {
          const { steps, layers } = batchOf(rank, b);
          stream.send(layers, steps.map((step) => ({ step, iterationTimeMs: 1000 })));
        }
        await stream.close(STREAM_ACK_MS).catch(() => undefined);
        ackedLayers.push((BATCHES_PER_STREAM - stream.pending()) * STEPS_PER_BATCH * LAYERS);
        streamBatchesAcked += BATCHES_PER_STREAM - stream.pending();
      };
      // The streaming ranks first (their batches fill the bound and the streams pause), then the unary
      // writers arrive on a full collector, as when a cluster's ranks restart while importers write.
      const streaming = Array.from({ length: STREAMS }, (_, i) => streamOne(WRITERS + i));
      await new Promise((r) => setTimeout(r, 3_000));
      const writing = Promise.all(writers.flatMap((client, i) => Array.from({ length: WRITES_EACH }, (_, b) => writeOne(client, i, b)))).then(() => (writersDone = Date.now()));
      await Promise.all([writing, ...streaming]);
    } finally {
      clearInterval(sampler);
      for (const c of writers) c.close();
      streamer.close();
      const after = readStatus(child.pid!);
      peakRss = Math.max(peakRss, after.rssMb);
      console.log(
        `burst with defaults: offered ${(offered / 2 ** 20).toFixed(0)} MiB (estimated, ${(offered / DEFAULT_ADMISSION.maxPendingBytes).toFixed(1)}x the bound) in ${((Date.now() - started) / 1000).toFixed(1)} s (writers done after ${((writersDone - started) / 1000).toFixed(1)} s); ` +
          `RSS before ${before.rssMb.toFixed(0)} MB, sampled peak ${peakRss.toFixed(0)} MB, VmHWM ${after.hwmMb.toFixed(0)} MB; ` +
          `${exhausted} RESOURCE_EXHAUSTED on Write (hints ${Math.min(...hints)}..${Math.max(...hints)} ms), ${streamRefusals} stream reconnects; ${ackedLayers.reduce((a, x) => a + x, 0)} layer reports acknowledged (${streamBatchesAcked} of ${STREAMS * BATCHES_PER_STREAM} stream batches)`,
      );
    }
    const after = readStatus(child.pid!);
    expect(exhausted).toBeGreaterThan(0);
    expect(hints.every((h) => Number.isInteger(h) && h > 0)).toBe(true);
    expect(after.hwmMb).toBeLessThan(RSS_BOUND_MB);
    expect(ackedLayers.length).toBeGreaterThan(0);
    expect(peakRss).toBeLessThan(RSS_BOUND_MB);

    // Every acknowledged record is stored (more may be: a batch stored whose ack the client gave up on).
    const runRow = await db.prisma.run.findUniqueOrThrow({ where: { runKey: run.runKey } });
    expect(await db.prisma.layerReport.count({ where: { runId: runRow.id } })).toBeGreaterThanOrEqual(ackedLayers.reduce((a, x) => a + x, 0));
  });
});
