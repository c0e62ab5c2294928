/**
 * Seeds one large run into a SQLite file for the run-page bench: N steps x L MoE layers x E experts
 * (default 100k x 64 x 64), fast.
 *
 *   npx tsx bench/seedLargeRun.ts [--file data/bench-large.db] [--steps 100000] [--layers 64] [--experts 64]
 *                                 [--ranks 8] [--fresh]
 *
 * The run and its ranks are registered through the product's own functions (runsRepo); each step's
 * aggregates come from lib/analysis/aggregateLayer on synthesized per-rank reports (one per EP rank, a
 * drifting skewed router with rare one-step spikes) and are stored exactly as ingest stores them (packCounts,
 * same columns); the 64-step rollups are produced by the function the collector calls after each flush
 * (refreshRollupsAfterFlush). Rows are inserted with better-sqlite3 prepared statements in one transaction
 * per 64 steps, because going through the collector would take hours at this size. Per-rank layer reports
 * are kept only for the last steps (the per-rank panels read one step), step samples for every step.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { aggregateLayer, type LayerAggregate, type RankLayerReport } from "../lib/analysis/aggregateLayer";
import { packCounts } from "../lib/store/packCounts";
import { createSimulation } from "../lib/sim/createSimulation";
import { openDatabase } from "../lib/store/db";
import { refreshRollupsAfterFlush } from "../lib/store/rollups";
import { registerRun, upsertRank, type RunRecord } from "../lib/store/runsRepo";

/** SeedOptions: the run to seed. */
export interface SeedOptions {
  file: string;
  steps: number;
  layers: number;
  experts: number;
  ranks: number;
  rankReportSteps: number;
  fresh: boolean;
  log?: (line: string) => void;
}

/** xorshift32: a tiny deterministic generator (the seed must be reproducible and fast). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** isSpike: the (step, layer) pairs where one expert takes 6x its share for a single step. */
export function isSpike(step: number, layer: number): boolean {
  return (step * 31 + layer * 17) % 9973 === 0;
}

/** seedLargeRun writes the run and returns its id. */
export async function seedLargeRun(o: SeedOptions): Promise<{ runId: string; seconds: number }> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  if (o.fresh) for (const f of [o.file, `${o.file}-wal`, `${o.file}-shm`]) fs.rmSync(f, { force: true });
  fs.mkdirSync(path.dirname(path.resolve(o.file)), { recursive: true });
  const sim = createSimulation({
    ranks: o.ranks, steps: o.steps, scenario: "balanced", numExperts: o.experts, numLayers: o.layers, ep: o.ranks, pp: 1, topk: 2,
  });
  const db = await openDatabase(`file:${path.resolve(o.file)}`);
  const runKey = `bench-large-${o.steps}x${o.layers}x${o.experts}`;
  const { run } = await registerRun(db, {
    runKey,
    name: `Large run ${o.steps} steps x ${o.layers} layers x ${o.experts} experts`,
    config: sim.config,
    worldSize: sim.worldSize,
    gpusPerNode: sim.gpusPerNode,
    gpuMemoryBytes: sim.gpuMemoryBytes,
    framework: "megatron-core",
    frameworkVersion: "0.14.0",
    simulated: true,
    commandLine: ["pretrain_gpt.py", "--num-experts", String(o.experts)],
  });
  for (const r of sim.ranks) await upsertRank(db, run.id, r, "seed");
  const coords = new Map(sim.ranks.map((r) => [r.rank, r.coords]));
  const raw = new Database(path.resolve(o.file));
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = OFF");
  const insAgg = raw.prepare(
    `INSERT OR REPLACE INTO "LayerAggregate" ("runId", "layer", "step", "ranksReported", "ranksExpected", "tokens", "load", "maxVio", "cv",
       "entropy", "deadExperts", "epImbalance", "epWorstEdp", "epWorstRank", "receivedMismatches", "dropFraction", "loadBalancingLoss",
       "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss") VALUES (${Array(20).fill("?").join(", ")})`,
  );
  const insStep = raw.prepare(
    `INSERT OR REPLACE INTO "StepSample" ("runId", "rank", "step", "iterationTimeMs", "lmLoss", "allocatedBytes", "reservedBytes",
       "peakAllocatedBytes", "numOoms", "numAllocRetries", "wallTimeMs") VALUES (${Array(11).fill("?").join(", ")})`,
  );
  const insReport = raw.prepare(
    `INSERT OR REPLACE INTO "LayerReport" ("runId", "step", "layer", "rank", "microBatches", "tokens", "counts", "countsBeforeDrop",
       "received", "dropped", "loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss") VALUES (${Array(14).fill("?").join(", ")})`,
  );

  const E = o.experts;
  const tokensPerRank = 8192;
  const k = sim.config.moe_router_topk;
  const layers = sim.moeLayers;
  // Each layer's router: a fixed skew, slowly drifting; each step adds noise; rare one-step spikes.
  const base = layers.map((l) => {
    const r = rng(l * 7919 + 1);
    return Array.from({ length: E }, () => 0.6 + r() * 0.8);
  });
  const wallStart = Date.now() - o.steps * 1000;
  const r = rng(12345);
  const reportsOf = (step: number, li: number): RankLayerReport[] => {
    const layer = layers[li];
    const w = base[li].map((b, e) => b * (1 + 0.3 * Math.sin(step / 5000 + e + li)) * (0.9 + 0.2 * r()));
    // A spike: one expert of one layer takes 6x its share at a single step (what downsampling must not hide).
    if (isSpike(step, layer)) w[(step + layer) % E] *= 6;
    const sum = w.reduce((a, b) => a + b, 0);
    const zLoss = 7 + 5 * Math.exp(-step / 20000) + 0.2 * r();
    return sim.ranks.map((ri) => {
      const counts = w.map((x) => Math.round(((x / sum) * tokensPerRank * k) * (0.95 + 0.1 * r())));
      const lb = (E / k) * counts.reduce((a, c, e) => a + (c / (tokensPerRank * k)) * (w[e] / sum), 0);
      return {
        rank: ri.rank,
        coords: coords.get(ri.rank)!,
        report: { step, layer, microBatches: 4, tokens: tokensPerRank, tokensPerExpert: counts, losses: { load_balancing_loss: lb, z_loss: zLoss } },
      };
    });
  };
  const firstReportStep = o.steps - o.rankReportSteps + 1;
  // Aggregating 8 x 64 counts costs ~170 us, 18 min for 6.4 M aggregates: most steps reuse one of POOL
  // aggregates per layer computed along the run's drift (plus a per-step pick among 8 neighbours for
  // noise); spike steps and the last steps (whose per-rank reports are stored) are aggregated fresh.
  const POOL = Math.min(o.steps, 1024);
  const pool = layers.map((layer, li) =>
    Array.from({ length: POOL }, (_, j) => aggregateLayer(1 + Math.floor((j * o.steps) / POOL), layer, reportsOf(1 + Math.floor((j * o.steps) / POOL), li), sim.config, sim.worldSize)),
  );
  log(`aggregate pool ready (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  const packedPool = pool.map((p) => p.map((a) => packCounts(a.load)));
  const poolIndex = (step: number): number => Math.min(POOL - 1, Math.floor(((step - 1) * POOL) / o.steps) + (((step * 2654435761) >>> 0) % 8));
  const pooled = (step: number, li: number): LayerAggregate => pool[li][poolIndex(step)];
  const CHUNK = 64;
  for (let start = 1; start <= o.steps; start += CHUNK) {
    const end = Math.min(o.steps, start + CHUNK - 1);
    const refreshed: Array<{ run: RunRecord; aggregate: LayerAggregate }> = [];
    raw.transaction(() => {
      for (let step = start; step <= end; step++) {
        for (let li = 0; li < layers.length; li++) {
          const fresh = step >= firstReportStep || isSpike(step, layers[li]);
          const reports = fresh ? reportsOf(step, li) : [];
          const a = fresh ? aggregateLayer(step, layers[li], reports, sim.config, sim.worldSize) : pooled(step, li);
          // The rollups need to know which steps changed, not every layer's aggregate.
          if (li === 0) refreshed.push({ run, aggregate: { ...a, step } });
          insAgg.run(
            run.id, a.layer, step, a.ranksReported, a.ranksExpected, a.tokens, fresh ? packCounts(a.load) : packedPool[li][poolIndex(step)], a.maxVio, a.cv, a.entropy,
            a.deadExperts, a.epImbalance, a.epWorst?.edp ?? null, a.epWorst?.epRank ?? null, a.receivedMismatches, a.dropFraction,
            a.losses.load_balancing_loss ?? null, a.losses.seq_load_balancing_loss ?? null, a.losses.global_load_balancing_loss ?? null,
            a.losses.z_loss ?? null,
          );
          if (step >= firstReportStep) {
            for (const rep of reports) {
              const x = rep.report;
              insReport.run(run.id, step, x.layer, rep.rank, x.microBatches, x.tokens, packCounts(x.tokensPerExpert), null, null, null,
                x.losses.load_balancing_loss ?? null, null, null, x.losses.z_loss ?? null);
            }
          }
        }
        for (const ri of sim.ranks) {
          const alloc = 40e9 + 2e9 * Math.sin(step / 3000 + ri.rank);
          insStep.run(run.id, ri.rank, step, 950 + 50 * r(), 2 + 9 * Math.exp(-step / 15000) + 0.03 * r(), Math.round(alloc), Math.round(alloc * 1.1),
            Math.round(alloc * 1.2), 0, 0, wallStart + step * 1000);
        }
      }
    })();
    // The same call the collector makes after a flush: closes and rolls up the blocks this chunk completed.
    await refreshRollupsAfterFlush(db, refreshed);
    if (end % 8192 < CHUNK || end === o.steps) log(`seeded ${end}/${o.steps} steps (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const now = Date.now();
  raw.prepare(`UPDATE "Run" SET "lastStep" = ?, "lastSeenMs" = ?, "version" = "version" + 1 WHERE "id" = ?`).run(o.steps, now, run.id);
  raw.prepare(`UPDATE "Rank" SET "lastSeenMs" = ? WHERE "runId" = ?`).run(now, run.id);
  raw.pragma("wal_checkpoint(TRUNCATE)");
  raw.close();
  await db.close();
  return { runId: run.id, seconds: (performance.now() - t0) / 1000 };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const { values } = parseArgs({
    options: {
      file: { type: "string", default: "data/bench-large.db" },
      steps: { type: "string", default: "100000" },
      layers: { type: "string", default: "64" },
      experts: { type: "string", default: "64" },
      ranks: { type: "string", default: "8" },
      "rank-report-steps": { type: "string", default: "4" },
      fresh: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
  });
  const opts: SeedOptions = {
    file: values.file!,
    steps: Number(values.steps),
    layers: Number(values.layers),
    experts: Number(values.experts),
    ranks: Number(values.ranks),
    rankReportSteps: Number(values["rank-report-steps"]),
    fresh: values.fresh!,
    log: values.quiet ? undefined : (l) => console.log(l),
  };
  for (const [name, v] of Object.entries({ steps: opts.steps, layers: opts.layers, experts: opts.experts, ranks: opts.ranks })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${String(v)}`);
  }
  const { runId, seconds } = await seedLargeRun(opts);
  console.log(`run ${runId} seeded in ${seconds.toFixed(1)} s into ${opts.file}`);
}
