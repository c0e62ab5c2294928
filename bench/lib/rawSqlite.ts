/**
 * Limit (b) of the ingest bench: the rows the product stores for a dataset, written straight through
 * better-sqlite3 prepared statements, one transaction per `stepsPerTransaction` steps, into a file that
 * has the product's own schema (its migrations applied) and the product's pragmas (WAL, synchronous
 * FULL). Rows are built by the product's own functions (lib/store/flushRows: same columns, same packed
 * encoding). No validation, no aggregates, no acks: only the write. Rows are built before the clock starts.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { LAYER_COLUMNS, LAYER_CONFLICT, layerRow, STEP_COLUMNS, STEP_CONFLICT, stepRow, type SqlValue } from "../../lib/store/flushRows";
import { migrateSqlite } from "../../lib/store/migrate";
import { diskBytes, tempDir } from "./proc";
import type { Dataset } from "./shapes";

function insertSql(table: string, columns: string[], conflict: string): string {
  return `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) ${conflict}`;
}

/** rowsOfStep: the LayerReport and StepSample rows one step becomes, built by the product's own row functions. */
function rowsOfStep(runId: string, d: Dataset, index: number): { layers: SqlValue[][]; samples: SqlValue[][] } {
  const s = d.steps[index];
  const layers: SqlValue[][] = [];
  const samples: SqlValue[][] = [];
  for (const [rank, reports] of s.layers) for (const r of reports) layers.push(layerRow(runId, rank, r));
  for (const [rank, x] of s.samples) samples.push(stepRow(runId, rank, x));
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
    // As the product's connection (lib/store/db.ts): every acked commit is on disk.
    db.pragma("synchronous = FULL");
    const insLayer = db.prepare(insertSql("LayerReport", LAYER_COLUMNS, LAYER_CONFLICT));
    const insStep = db.prepare(insertSql("StepSample", STEP_COLUMNS, STEP_CONFLICT));
    const write = db.transaction((chunk: Array<{ layers: SqlValue[][]; samples: SqlValue[][] }>) => {
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
