/**
 * Limit (b) of the ingest bench: the rows the product stores for a dataset, written straight through
 * better-sqlite3 prepared statements, one transaction per `stepsPerTransaction` steps, into a file that
 * has the product's own schema (its migrations applied) and the product's pragmas (WAL, synchronous
 * NORMAL). Row content uses the product's encoding (lib/analysis/packCounts). No validation, no
 * aggregates, no acks: only the write. Rows are built before the clock starts.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { packCounts } from "../../lib/analysis/packCounts";
import { migrateSqlite } from "../../lib/server/migrate";
import { diskBytes, tempDir } from "./proc";
import type { Dataset } from "./shapes";

type Row = Array<string | number | Uint8Array | null>;

const LAYER_SQL = `INSERT INTO "LayerReport" ("runId", "step", "layer", "rank", "microBatches", "tokens", "counts", "countsBeforeDrop", "received",
  "dropped", "loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT ("runId", "step", "layer", "rank") DO NOTHING`;
const STEP_SQL = `INSERT INTO "StepSample" ("runId", "rank", "step", "iterationTimeMs", "lmLoss", "allocatedBytes", "reservedBytes",
  "peakAllocatedBytes", "numOoms", "numAllocRetries", "wallTimeMs") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT ("runId", "rank", "step") DO NOTHING`;

/** rowsOfStep: the LayerReport and StepSample rows one step of a dataset becomes in the product's store. */
function rowsOfStep(runId: string, d: Dataset, index: number): { layers: Row[]; samples: Row[] } {
  const s = d.steps[index];
  const layers: Row[] = [];
  const samples: Row[] = [];
  for (const [rank, reports] of s.layers) {
    for (const r of reports) {
      layers.push([
        runId, r.step, r.layer, rank, r.microBatches, r.tokens, packCounts(r.tokensPerExpert),
        r.tokensPerExpertBeforeDrop?.length ? packCounts(r.tokensPerExpertBeforeDrop) : null,
        r.receivedPerLocalExpert?.length ? packCounts(r.receivedPerLocalExpert) : null,
        r.dropped ?? null, r.losses.load_balancing_loss ?? null, r.losses.seq_load_balancing_loss ?? null,
        r.losses.global_load_balancing_loss ?? null, r.losses.z_loss ?? null,
      ]);
    }
  }
  for (const [rank, x] of s.samples) {
    const m = x.memory;
    samples.push([
      runId, rank, x.step, x.iterationTimeMs ?? null, x.lmLoss ?? null, m?.allocatedBytes ?? null, m?.reservedBytes ?? null,
      m?.peakAllocatedBytes ?? null, m?.numOoms ?? null, m?.numAllocRetries ?? null, x.wallTimeMs ?? null,
    ]);
  }
  return { layers, samples };
}

/** RawWriteResult: the write limit for one dataset. */
export interface RawWriteResult {
  counts: number;
  seconds: number;
  cpuSeconds: number;
  fileBytes: number;
}

/** rawSqliteWrite writes a dataset's rows and measures wall time, this process's CPU time and file size. */
export function rawSqliteWrite(d: Dataset, stepsPerTransaction = 1): RawWriteResult {
  const file = path.join(tempDir("moe-bench-raw-"), "raw.db");
  migrateSqlite(file);
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const insLayer = db.prepare(LAYER_SQL);
    const insStep = db.prepare(STEP_SQL);
    const write = db.transaction((chunk: Array<{ layers: Row[]; samples: Row[] }>) => {
      for (const c of chunk) {
        for (const r of c.layers) insLayer.run(r);
        for (const r of c.samples) insStep.run(r);
      }
    });
    const rows = d.steps.map((_, i) => rowsOfStep("raw-bench-run", d, i));
    const counts = d.countsPerStep * d.steps.length;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += stepsPerTransaction) write(rows.slice(i, i + stepsPerTransaction));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    db.pragma("wal_checkpoint(TRUNCATE)");
    return { counts, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, fileBytes: diskBytes(file) + diskBytes(`${file}-wal`) };
  } finally {
    db.close();
  }
}
