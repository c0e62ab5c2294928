/**
 * The ingest hot path: a flush of validated batches written in ONE transaction, idempotent on
 * (run, step, layer, rank) and (run, rank, step), with the touched (step, layer) aggregates refreshed.
 *
 * SQLite goes through SqliteReportWriter (better-sqlite3 prepared statements, aggregates from reports
 * kept in memory). PostgreSQL, where several collectors may share a run, uses multi-row raw statements
 * through Prisma and recomputes the touched aggregates from the stored rows, so the aggregate is right
 * whichever order and whichever process the reports came through.
 */
import type BetterSqlite3 from "better-sqlite3";
import type { RankLayerReport } from "../analysis/aggregateLayer";
import type { RankCoords } from "../analysis/types";
import type { Db } from "./db";
import {
  AGGREGATE_COLUMNS, AGGREGATE_CONFLICT, aggregateOrSkip, aggregateRow, conflictRejection, differingColumns, flushProgress, instanceUpsertArgs,
  instanceUpsertSql, LAYER_COLUMNS, LAYER_CONFLICT, LAYER_KEY, layerKeyText, layerRow, rankUpdateArgs, rankUpdateSql, runUpdateArgs, runUpdateSql, SCALAR_COLUMNS,
  SCALAR_CONFLICT, SCALAR_KEY, scalarKeyText, scalarRow, STEP_COLUMNS, STEP_CONFLICT, stepRow, type SqlValue,
} from "./flushRows";
import type { RunRecord } from "./runsRepo";
import { layerReportFromRow, rankCoordsFromRows, rankCoordsSql, STORED_COLUMNS, type StoredLayerRow, type StoredRankRow } from "./layerReportRows";
import type { AggregateErrorHandler, PendingBatch, RefreshedAggregate } from "./pendingBatch";
import { SqliteReportWriter } from "./sqliteReportWriter";

export type { AggregateErrorHandler, PendingBatch, RefreshedAggregate } from "./pendingBatch";

/** Longest a flush waits for another transaction on the shared SQLite connection before it fails. */
const TRANSACTION_WAIT_MS = 60_000;

// Rows per INSERT: keeps every statement far below SQLite's and PostgreSQL's parameter limits.
const ROWS_PER_STATEMENT = 400;

type Tx = Parameters<Parameters<Db["prisma"]["$transaction"]>[0]>[0];

/** writeBatches makes a list of batches durable in one transaction; returns the aggregates it refreshed. */
export async function writeBatches(
  db: Db,
  batches: PendingBatch[],
  nowMs: number,
  onAggregateError?: AggregateErrorHandler,
): Promise<RefreshedAggregate[]> {
  if (batches.length === 0) return [];
  const conn = db.sqlite();
  if (conn) {
    // A Prisma interactive transaction (alerts, run registration) may be open on the shared connection
    // across awaits: wait for it, then write synchronously so nothing can interleave.
    const since = Date.now();
    while (conn.inTransaction) {
      if (Date.now() - since > TRANSACTION_WAIT_MS) {
        throw new Error(`a transaction has held the SQLite connection for over ${TRANSACTION_WAIT_MS / 1000} s: flush not written (the batches stay unacked)`);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    return sqliteWriter(conn).write(batches, nowMs, onAggregateError);
  }
  return db.prisma.$transaction(
    async (tx) => {
      for (const b of batches) b.conflicts = undefined;
      await lockRuns(db, tx, batches);
      await insertLayerReports(db, tx, batches);
      await insertStepSamples(db, tx, batches);
      await insertScalars(db, tx, batches);
      const refreshed = await refreshAggregates(db, tx, batches, onAggregateError);
      await updateRanksAndRuns(db, tx, batches, nowMs);
      return refreshed;
    },
    { timeout: 120_000, maxWait: 120_000 },
  );
}

const writers = new WeakMap<BetterSqlite3.Database, SqliteReportWriter>();

function sqliteWriter(conn: BetterSqlite3.Database): SqliteReportWriter {
  let w = writers.get(conn);
  if (!w) writers.set(conn, (w = new SqliteReportWriter(conn)));
  return w;
}

/**
 * With several collectors on one PostgreSQL, two flushes of the same run must not recompute an
 * aggregate each from rows the other has not committed yet (a lost update). A transaction-scoped
 * advisory lock per run serializes them; sorted, so two flushes never wait on each other in a cycle.
 * SQLite needs nothing: it has one writer at a time.
 */
async function lockRuns(db: Db, tx: Tx, batches: PendingBatch[]): Promise<void> {
  if (db.sql.name !== "postgresql") return;
  for (const runId of [...new Set(batches.map((b) => b.run.id))].sort()) {
    await tx.$queryRawUnsafe(`SELECT CAST(pg_advisory_xact_lock(hashtext($1)) AS TEXT) AS locked`, runId);
  }
}

async function insertRows(
  db: Db,
  tx: Tx,
  table: string,
  columns: string[],
  rows: SqlValue[][],
  conflict: string,
): Promise<void> {
  const cols = columns.map((c) => `"${c}"`).join(", ");
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const sql = `INSERT INTO "${table}" (${cols}) VALUES ${db.sql.placeholders(chunk.length, columns.length)} ${conflict}`;
    await tx.$executeRawUnsafe(sql, ...chunk.flat());
  }
}

/** A record of a batch on its way into a table, with what a conflict of it would name. */
interface RecordRow {
  batch: PendingBatch;
  field: string;
  what: string;
  row: SqlValue[];
}

/**
 * insertRecords inserts records idempotently (`conflict` is DO NOTHING) and finds the ones a resend did not
 * insert (RETURNING names those that were): each is read back by its key and, if stored with other values,
 * refused as a conflict of its batch. Resends are rare, so the read-back is one query per skipped record.
 */
async function insertRecords(db: Db, tx: Tx, table: string, columns: string[], key: string[], records: RecordRow[], conflict: string): Promise<void> {
  const cols = columns.map((c) => `"${c}"`).join(", ");
  const keyAt = key.map((k) => columns.indexOf(k));
  const keyOf = (values: unknown[]) => values.map((v) => (typeof v === "bigint" ? Number(v) : v)).join("\u0000");
  for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
    const chunk = records.slice(i, i + ROWS_PER_STATEMENT);
    const sql = `INSERT INTO "${table}" (${cols}) VALUES ${db.sql.placeholders(chunk.length, columns.length)} ${conflict}
                 RETURNING ${key.map((k) => `"${k}"`).join(", ")}`;
    const inserted = (await tx.$queryRawUnsafe(sql, ...chunk.flatMap((r) => r.row))) as Array<Record<string, unknown>>;
    if (inserted.length === chunk.length) continue;
    const stored = new Set(inserted.map((r) => keyOf(key.map((k) => r[k]))));
    for (const r of chunk) {
      const values = keyAt.map((j) => r.row[j]);
      const id = keyOf(values);
      if (stored.has(id)) {
        stored.delete(id); // the same key twice in one statement: the second one is the resend
        continue;
      }
      const where = key.map((k, j) => `"${k}" = ${db.sql.param(j + 1)}`).join(" AND ");
      const [row] = (await tx.$queryRawUnsafe(`SELECT ${cols} FROM "${table}" WHERE ${where}`, ...values)) as Array<Record<string, unknown>>;
      const differ = row ? differingColumns(columns, row, r.row) : [];
      if (differ.length > 0) (r.batch.conflicts ??= []).push(conflictRejection(r.field, r.what, differ));
    }
  }
}

async function insertLayerReports(db: Db, tx: Tx, batches: PendingBatch[]): Promise<void> {
  const records = batches.flatMap((b) =>
    b.layers.map((r, i) => ({
      batch: b,
      field: `layers[${i}]`,
      what: layerKeyText(b.run.runKey, b.rank, r),
      row: layerRow(b.run.id, b.rank, r),
    })),
  );
  await insertRecords(db, tx, "LayerReport", LAYER_COLUMNS, LAYER_KEY, records, LAYER_CONFLICT);
}

async function insertStepSamples(db: Db, tx: Tx, batches: PendingBatch[]): Promise<void> {
  // First write kept silently (see sqliteReportWriter.ts): a restarted job re-measures the steps it repeats.
  const rows = batches.flatMap((b) => b.steps.map((s) => stepRow(b.run.id, b.rank, s)));
  await insertRows(db, tx, "StepSample", STEP_COLUMNS, rows, STEP_CONFLICT);
}

async function insertScalars(db: Db, tx: Tx, batches: PendingBatch[]): Promise<void> {
  const records = batches.flatMap((b) =>
    (b.scalars ?? []).map((p, i) => ({
      batch: b,
      field: `scalars[${i}]`,
      what: scalarKeyText(b.run.runKey, p),
      row: scalarRow(b.run.id, p),
    })),
  );
  await insertRecords(db, tx, "RunScalar", SCALAR_COLUMNS, SCALAR_KEY, records, SCALAR_CONFLICT);
}

async function refreshAggregates(db: Db, tx: Tx, batches: PendingBatch[], onAggregateError?: AggregateErrorHandler): Promise<RefreshedAggregate[]> {
  // (run, step) -> layers touched by this flush.
  const touched = new Map<string, { run: RunRecord; step: number; layers: Set<number> }>();
  for (const b of batches) {
    for (const r of b.layers) {
      const key = `${b.run.id}\u0000${r.step}`;
      let t = touched.get(key);
      if (!t) touched.set(key, (t = { run: b.run, step: r.step, layers: new Set() }));
      t.layers.add(r.layer);
    }
  }
  if (touched.size === 0) return [];
  const refreshed: RefreshedAggregate[] = [];
  const coordsByRun = new Map<string, Map<number, RankCoords>>();
  const out: SqlValue[][] = [];
  for (const { run, step, layers } of touched.values()) {
    let coords = coordsByRun.get(run.id);
    if (!coords) {
      coords = await loadCoords(db, tx, run.id);
      coordsByRun.set(run.id, coords);
    }
    const rows = (await tx.$queryRawUnsafe(
      `SELECT ${STORED_COLUMNS} FROM "LayerReport" WHERE "runId" = ${db.sql.param(1)} AND "step" = ${db.sql.param(2)}`,
      run.id,
      step,
    )) as StoredLayerRow[];
    const byLayer = new Map<number, RankLayerReport[]>();
    for (const row of rows) {
      const layer = Number(row.layer);
      if (!layers.has(layer)) continue;
      const rank = Number(row.rank);
      const c = coords.get(rank);
      if (!c) continue; // cannot happen: a rank's hello is stored before its data
      let list = byLayer.get(layer);
      if (!list) byLayer.set(layer, (list = []));
      list.push({ rank, coords: c, report: layerReportFromRow(step, row) });
    }
    for (const [layer, reports] of byLayer) {
      const a = aggregateOrSkip(run, step, layer, reports, onAggregateError);
      if (!a) continue;
      refreshed.push({ run, aggregate: a });
      out.push(aggregateRow(run.id, a));
    }
  }
  await insertRows(db, tx, "LayerAggregate", AGGREGATE_COLUMNS, out, AGGREGATE_CONFLICT);
  return refreshed;
}

async function loadCoords(db: Db, tx: Tx, runId: string): Promise<Map<number, RankCoords>> {
  return rankCoordsFromRows((await tx.$queryRawUnsafe(rankCoordsSql(db.sql.param(1)), runId)) as StoredRankRow[]);
}

async function updateRanksAndRuns(db: Db, tx: Tx, batches: PendingBatch[], nowMs: number): Promise<void> {
  const progress = flushProgress(batches);
  for (const r of progress.ranks) await tx.$executeRawUnsafe(rankUpdateSql(db.sql.param), ...rankUpdateArgs(r, nowMs));
  for (const i of progress.instances) await tx.$executeRawUnsafe(instanceUpsertSql(db.sql.param), ...instanceUpsertArgs(i, nowMs));
  for (const r of progress.runs) await tx.$executeRawUnsafe(runUpdateSql(db.sql.param), ...runUpdateArgs(r, nowMs));
}
