/**
 * The ingest hot path: a flush of validated batches written in ONE transaction with multi-row raw
 * statements (Prisma's ORM costs ~0.2 ms per row here, far too slow for telemetry), idempotent on
 * (run, step, layer, rank) and (run, rank, step), followed by recomputing the touched (step, layer)
 * aggregates from the stored rows, so the aggregate is right whichever order and whichever process the
 * reports came through.
 */
import { aggregateLayer, type LayerAggregate, type RankLayerReport } from "../analysis/aggregateLayer";
import { packCounts, unpackCounts } from "../analysis/packCounts";
import type { LayerReport, RankCoords, ScalarPoint, StepSample } from "../analysis/types";
import type { Db } from "./db";
import type { RunRecord } from "./runsRepo";

/** PendingBatch: one validated batch of one rank, waiting to be made durable. */
export interface PendingBatch {
  run: RunRecord;
  rank: number;
  seq: number;
  layers: LayerReport[];
  steps: StepSample[];
  /** Named scalar series points (imports); optional so older callers need not send any. */
  scalars?: ScalarPoint[];
  droppedBatches: number;
}

// Rows per INSERT: keeps every statement far below SQLite's and PostgreSQL's parameter limits.
const ROWS_PER_STATEMENT = 400;

type Tx = Parameters<Parameters<Db["prisma"]["$transaction"]>[0]>[0];
type SqlValue = string | number | Uint8Array | null;

/** AggregateErrorHandler hears about an aggregate that could not be computed (it is skipped, not fatal). */
export type AggregateErrorHandler = (err: unknown, where: { runId: string; step: number; layer: number }) => void;

/** RefreshedAggregate: an aggregate this flush recomputed, for the alert evaluator. */
export interface RefreshedAggregate {
  run: RunRecord;
  aggregate: LayerAggregate;
}

/** writeBatches makes a list of batches durable in one transaction; returns the aggregates it refreshed. */
export async function writeBatches(
  db: Db,
  batches: PendingBatch[],
  nowMs: number,
  onAggregateError?: AggregateErrorHandler,
): Promise<RefreshedAggregate[]> {
  if (batches.length === 0) return [];
  return db.prisma.$transaction(
    async (tx) => {
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

const LAYER_COLUMNS = [
  "runId", "step", "layer", "rank", "microBatches", "tokens", "counts", "countsBeforeDrop", "received", "dropped",
  "loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss",
];

async function insertLayerReports(db: Db, tx: Tx, batches: PendingBatch[]): Promise<void> {
  const rows: SqlValue[][] = [];
  for (const b of batches) {
    for (const r of b.layers) {
      rows.push([
        b.run.id, r.step, r.layer, b.rank, r.microBatches, r.tokens,
        packCounts(r.tokensPerExpert),
        r.tokensPerExpertBeforeDrop?.length ? packCounts(r.tokensPerExpertBeforeDrop) : null,
        r.receivedPerLocalExpert?.length ? packCounts(r.receivedPerLocalExpert) : null,
        r.dropped ?? null,
        r.losses.load_balancing_loss ?? null,
        r.losses.seq_load_balancing_loss ?? null,
        r.losses.global_load_balancing_loss ?? null,
        r.losses.z_loss ?? null,
      ]);
    }
  }
  // A resend after a reconnect carries rows that are already stored: the first write wins.
  await insertRows(db, tx, "LayerReport", LAYER_COLUMNS, rows, `ON CONFLICT ("runId", "step", "layer", "rank") DO NOTHING`);
}

const STEP_COLUMNS = [
  "runId", "rank", "step", "iterationTimeMs", "lmLoss", "allocatedBytes", "reservedBytes", "peakAllocatedBytes",
  "numOoms", "numAllocRetries", "wallTimeMs",
];

async function insertStepSamples(db: Db, tx: Tx, batches: PendingBatch[]): Promise<void> {
  const rows: SqlValue[][] = [];
  for (const b of batches) {
    for (const s of b.steps) {
      const m = s.memory;
      rows.push([
        b.run.id, b.rank, s.step, s.iterationTimeMs ?? null, s.lmLoss ?? null,
        m?.allocatedBytes ?? null, m?.reservedBytes ?? null, m?.peakAllocatedBytes ?? null,
        m?.numOoms ?? null, m?.numAllocRetries ?? null, s.wallTimeMs ?? null,
      ]);
    }
  }
  await insertRows(db, tx, "StepSample", STEP_COLUMNS, rows, `ON CONFLICT ("runId", "rank", "step") DO NOTHING`);
}

async function insertScalars(db: Db, tx: Tx, batches: PendingBatch[]): Promise<void> {
  const rows: SqlValue[][] = [];
  for (const b of batches) for (const p of b.scalars ?? []) rows.push([b.run.id, p.name, p.layer, p.step, p.value]);
  await insertRows(db, tx, "RunScalar", ["runId", "name", "layer", "step", "value"], rows, `ON CONFLICT ("runId", "name", "layer", "step") DO NOTHING`);
}

const AGGREGATE_COLUMNS = [
  "runId", "layer", "step", "ranksReported", "ranksExpected", "tokens", "load", "maxVio", "cv", "entropy",
  "deadExperts", "epImbalance", "epWorstEdp", "epWorstRank", "receivedMismatches", "dropFraction",
  "loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss",
];

interface StoredLayerRow {
  layer: number | bigint;
  rank: number | bigint;
  microBatches: number | bigint;
  tokens: number | bigint;
  counts: Uint8Array;
  received: Uint8Array | null;
  dropped: number | bigint | null;
  loadBalancingLoss: number | null;
  seqLoadBalancingLoss: number | null;
  globalLoadBalancingLoss: number | null;
  zLoss: number | null;
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
      `SELECT "layer", "rank", "microBatches", "tokens", "counts", "received", "dropped", "loadBalancingLoss", "seqLoadBalancingLoss",
              "globalLoadBalancingLoss", "zLoss"
         FROM "LayerReport" WHERE "runId" = ${db.sql.param(1)} AND "step" = ${db.sql.param(2)}`,
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
      let a;
      try {
        a = aggregateLayer(step, layer, reports, run.config, run.worldSize);
      } catch (err) {
        // Stored reports are already validated; an analysis error must never block the flush (and with it
        // every ack). The aggregate is skipped and recomputed when the next report of this layer arrives.
        onAggregateError?.(err, { runId: run.id, step, layer });
        continue;
      }
      refreshed.push({ run, aggregate: a });
      out.push([
        run.id, layer, step, a.ranksReported, a.ranksExpected, a.tokens, packCounts(a.load), a.maxVio, a.cv, a.entropy,
        a.deadExperts, a.epImbalance, a.epWorst?.edp ?? null, a.epWorst?.epRank ?? null, a.receivedMismatches, a.dropFraction,
        a.losses.load_balancing_loss ?? null, a.losses.seq_load_balancing_loss ?? null,
        a.losses.global_load_balancing_loss ?? null, a.losses.z_loss ?? null,
      ]);
    }
  }
  const updates = AGGREGATE_COLUMNS.slice(3).map((c) => `"${c}" = excluded."${c}"`).join(", ");
  await insertRows(db, tx, "LayerAggregate", AGGREGATE_COLUMNS, out, `ON CONFLICT ("runId", "layer", "step") DO UPDATE SET ${updates}`);
  return refreshed;
}

function layerReportFromRow(step: number, row: StoredLayerRow): LayerReport {
  const losses: LayerReport["losses"] = {};
  if (row.loadBalancingLoss !== null) losses.load_balancing_loss = row.loadBalancingLoss;
  if (row.seqLoadBalancingLoss !== null) losses.seq_load_balancing_loss = row.seqLoadBalancingLoss;
  if (row.globalLoadBalancingLoss !== null) losses.global_load_balancing_loss = row.globalLoadBalancingLoss;
  if (row.zLoss !== null) losses.z_loss = row.zLoss;
  return {
    step,
    layer: Number(row.layer),
    microBatches: Number(row.microBatches),
    tokens: Number(row.tokens),
    tokensPerExpert: unpackCounts(row.counts),
    ...(row.received ? { receivedPerLocalExpert: unpackCounts(row.received) } : {}),
    ...(row.dropped === null ? {} : { dropped: Number(row.dropped) }),
    losses,
  };
}

async function loadCoords(db: Db, tx: Tx, runId: string): Promise<Map<number, RankCoords>> {
  const rows = (await tx.$queryRawUnsafe(
    `SELECT "rank", "tp", "cp", "dp", "pp", "ep", "etp", "edp" FROM "Rank" WHERE "runId" = ${db.sql.param(1)}`,
    runId,
  )) as Array<Record<string, number | bigint>>;
  const map = new Map<number, RankCoords>();
  for (const r of rows) {
    map.set(Number(r.rank), {
      tp: Number(r.tp), cp: Number(r.cp), dp: Number(r.dp), pp: Number(r.pp),
      ep: Number(r.ep), etp: Number(r.etp), edp: Number(r.edp),
    });
  }
  return map;
}

async function updateRanksAndRuns(db: Db, tx: Tx, batches: PendingBatch[], nowMs: number): Promise<void> {
  const ranks = new Map<string, { runId: string; rank: number; seq: number; dropped: number }>();
  const runs = new Map<string, number>(); // runId -> highest step in this flush (-1: none)
  for (const b of batches) {
    const key = `${b.run.id}\u0000${b.rank}`;
    const r = ranks.get(key);
    if (r) {
      r.seq = Math.max(r.seq, b.seq);
      r.dropped += b.droppedBatches;
    } else {
      ranks.set(key, { runId: b.run.id, rank: b.rank, seq: b.seq, dropped: b.droppedBatches });
    }
    let top = runs.get(b.run.id) ?? -1;
    for (const l of b.layers) top = Math.max(top, l.step);
    for (const s of b.steps) top = Math.max(top, s.step);
    for (const p of b.scalars ?? []) top = Math.max(top, p.step);
    runs.set(b.run.id, top);
  }
  const p = (i: number) => db.sql.param(i);
  for (const r of ranks.values()) {
    await tx.$executeRawUnsafe(
      `UPDATE "Rank" SET "durableSeq" = CASE WHEN "durableSeq" < ${p(1)} THEN ${p(2)} ELSE "durableSeq" END,
              "droppedBatches" = "droppedBatches" + ${p(3)}, "lastSeenMs" = ${p(4)}
        WHERE "runId" = ${p(5)} AND "rank" = ${p(6)}`,
      r.seq, r.seq, r.dropped, nowMs, r.runId, r.rank,
    );
  }
  for (const [runId, top] of runs) {
    await tx.$executeRawUnsafe(
      `UPDATE "Run" SET "lastStep" = CASE WHEN ${p(1)} < 0 THEN "lastStep"
                                          WHEN "lastStep" IS NULL OR "lastStep" < ${p(2)} THEN ${p(3)} ELSE "lastStep" END,
              "lastSeenMs" = ${p(4)}, "version" = "version" + 1
        WHERE "id" = ${p(5)}`,
      top, top, top, nowMs, runId,
    );
  }
}
