/**
 * The one step-bucketing query every series over steps goes through (loss charts, imbalance heatmap,
 * experts x steps heatmap, run comparison). A view asks for a step range, a bucket size, the metrics it
 * draws and whether it needs per-expert loads; it gets, per (layer, bucket), min, max, sum and count of
 * each metric (so a chart can draw the mean with a min-max band, and a heatmap the worst value) and each
 * expert's max and min load. Buckets are aligned to step 0 (bucket = floor(step / size)); sizes above half
 * a rollup block are whole multiples of it, so the closed 64-step blocks are read from LayerRollup and only
 * the partial edges and the open newest block from LayerAggregate. Sizes above half a coarse block are
 * whole multiples of it (512 steps), so whole coarse blocks come from LayerRollupCoarse and only the
 * 64-step blocks at its edges from LayerRollup.
 */
import type BetterSqlite3 from "better-sqlite3";
import { unpackCounts } from "../../store/packCounts";
import { bucketFromSummaryRow, emptyBucket, foldPoint, mergeBucket, METRIC_COLUMNS, type BucketStats, type MetricColumn } from "../../store/bucketStats";
import type { Db } from "../../store/db";
import { AnswerCache } from "./sqliteAnswerCache";
import { COARSE_FACTOR, COARSE_STEPS, ensureCoarseRollups, ensureRollups, newestStep, rollupFromRow, ROLLUP_STEPS, type RollupTable } from "../../store/rollups";

/** BucketQuery: what one view needs. */
export interface BucketQuery {
  runId: string;
  /** The run's MoE layers (every rolled-up block has a row for each). */
  moeLayers: readonly number[];
  /** Only these layers; all when omitted. */
  layers?: readonly number[];
  fromStep: number;
  toStep: number;
  /** The run's first stored step: when fromStep is at or before it, the block holding fromStep is whole. */
  firstStoredStep?: number;
  bucketSize: number;
  metrics: readonly MetricColumn[];
  /** Per-expert max and min load per bucket (reads the packed loads: ask only for the layers drawn). */
  loads?: boolean;
}

/**
 * bucketSizeFor is the number of steps per bucket so that [fromStep, toStep] fits in maxPoints buckets;
 * above half a rollup block it is rounded up to whole blocks, above half a coarse block to whole coarse
 * blocks (either way at least maxPoints / 2 buckets remain).
 */
export function bucketSizeFor(fromStep: number, toStep: number, maxPoints: number): number {
  const span = Math.max(1, toStep - fromStep + 1);
  const max = Math.max(1, maxPoints);
  const roundTo = (n: number, unit: number) => Math.ceil(n / unit) * unit;
  const rounded = (n: number) => (n > COARSE_STEPS / 2 ? roundTo(n, COARSE_STEPS) : n > ROLLUP_STEPS / 2 ? roundTo(n, ROLLUP_STEPS) : n);
  // Buckets are aligned to step 0 (floor(step / size)), so the range may straddle one bucket more than
  // span / size: grow the size until the aligned buckets fit too.
  let size = rounded(Math.max(1, Math.ceil(span / max)));
  while (Math.floor(toStep / size) - Math.floor(fromStep / size) + 1 > max) size = rounded(size + 1);
  return size;
}

type Row = Record<string, unknown>;

type Statement = BetterSqlite3.Statement<unknown[], Row>;
const statements = new WeakMap<object, Map<string, Statement>>();

/**
 * queryRows runs one read of this module. On SQLite it goes straight to the connection Prisma's adapter
 * holds (a prepared statement, cached per SQL text): the run page's whole-run reads return ~12k rollup rows,
 * and Prisma's raw path adds its own row mapping to SQLite's time (in process, 100k x 64 x 64 run, the
 * imbalance heatmap's read: 139-167 ms through this path against 165-270 ms through Prisma).
 * PostgreSQL keeps Prisma.
 */
async function queryRows(db: Db, sql: string, args: unknown[]): Promise<Row[]> {
  const conn = db.sqlite();
  if (!conn) return (await db.prisma.$queryRawUnsafe(sql, ...args)) as Row[];
  let cache = statements.get(conn);
  if (!cache || cache.size > 256) statements.set(conn, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = conn.prepare<unknown[], Row>(sql)));
  return stmt.all(...args);
}

/** A tiny positional-parameter builder: SQLite's "?" binds in order, PostgreSQL's "$n" by number. */
function params(db: Db) {
  const args: unknown[] = [];
  return { args, ph: (v: unknown) => (args.push(v), db.sql.param(args.length)) };
}

/** layerFilter is ' AND "layer" IN (...)' (nothing when undefined). */
export function layerFilter(ph: (v: unknown) => string, layers: readonly number[] | undefined): string {
  return layers ? ` AND "layer" IN (${layers.map((l) => ph(l)).join(", ")})` : "";
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/**
 * Answers of readStepBuckets on SQLite while the database is unchanged (sqliteAnswerCache.ts). The run
 * page's whole-run views (the imbalance heatmap over 64 layers, the loss charts) read ~12.5k coarse rollup
 * rows each at 100k steps, 60-110 ms; a refresh or a second viewer of an unchanged run now costs nothing.
 * Weight: one per bucket plus the per-expert loads it holds; 64 answers, ~2 M numbers at most.
 */
const bucketCache = new AnswerCache<BucketStats[]>(64, 2_000_000);

/**
 * readStepBuckets returns the buckets of [fromStep, toStep], sorted by layer then bucket. Callers get a
 * cached array on SQLite: they must not modify it or its buckets.
 */
export function readStepBuckets(db: Db, query: BucketQuery): Promise<BucketStats[]> {
  return bucketCache.read(db.sqlite(), JSON.stringify(query), (out) => out.length * (1 + 2 * (out[0]?.loadMax?.length ?? 0)), () => readUncached(db, query));
}

async function readUncached(db: Db, query: BucketQuery): Promise<BucketStats[]> {
  let q = query;
  if (q.fromStep > q.toStep || q.layers?.length === 0) return [];
  // Always name the layers: on SQLite's WITHOUT ROWID tables "layer IN (...)" turns a step range into one
  // primary-key range per layer, where "runId" alone would walk the whole run.
  q = { ...q, layers: q.layers ?? q.moeLayers };
  const parts: BucketStats[] = [];
  let rawRanges: Array<[number, number]> = [[q.fromStep, q.toStep]];
  if (q.bucketSize % ROLLUP_STEPS === 0 && q.moeLayers.length > 0) {
    const fromBlock = q.firstStoredStep !== undefined && q.fromStep <= q.firstStoredStep
      ? Math.floor(q.fromStep / ROLLUP_STEPS)
      : Math.ceil(q.fromStep / ROLLUP_STEPS);
    const toBlock = Math.floor((q.toStep + 1) / ROLLUP_STEPS) - 1;
    if (toBlock >= fromBlock) {
      const lastBlock = await ensureRollups(db, q.runId, q.moeLayers, fromBlock, toBlock, await newestStep(db, q.runId));
      if (lastBlock >= fromBlock) {
        parts.push(...(await readRollupLevels(db, q, fromBlock, lastBlock)));
        rawRanges = [
          [q.fromStep, fromBlock * ROLLUP_STEPS - 1],
          [(lastBlock + 1) * ROLLUP_STEPS, q.toStep],
        ];
      }
    }
  }
  for (const [lo, hi] of rawRanges) if (lo <= hi) parts.push(...(await readAggregates(db, q, lo, hi)));
  const merged = new Map<string, BucketStats>();
  for (const part of parts) {
    const key = `${part.layer}/${part.bucket}`;
    const into = merged.get(key);
    if (into) mergeBucket(into, part);
    else merged.set(key, part);
  }
  return [...merged.values()].filter((b) => b.steps > 0).sort((a, b) => a.layer - b.layer || a.bucket - b.bucket);
}

/** Raw aggregates: grouped in the database for metrics; row by row (one layer, typically) when loads are needed. */
async function readAggregates(db: Db, q: BucketQuery, lo: number, hi: number): Promise<BucketStats[]> {
  const { args, ph } = params(db);
  if (q.loads) {
    const rows = await queryRows(db, `SELECT "layer", "step", "tokens", "load"${q.metrics.map((m) => `, "${m}"`).join("")}
         FROM "LayerAggregate" WHERE "runId" = ${ph(q.runId)} AND "step" >= ${ph(lo)} AND "step" <= ${ph(hi)}${layerFilter(ph, q.layers)}
        ORDER BY "layer", "step"`, args);
    const out = new Map<string, BucketStats>();
    for (const r of rows) {
      const layer = Number(r.layer);
      const step = Number(r.step);
      const bucket = Math.floor(step / q.bucketSize);
      const key = `${layer}/${bucket}`;
      let b = out.get(key);
      if (!b) out.set(key, (b = emptyBucket(layer, bucket)));
      const metrics: Partial<Record<MetricColumn, number | null>> = {};
      for (const m of q.metrics) metrics[m] = num(r[m]);
      foldPoint(b, { layer, step, tokens: Number(r.tokens ?? 0), metrics, load: unpackCounts(r.load as Uint8Array) });
    }
    return [...out.values()];
  }
  const rows = await groupedStepBuckets(db, {
    table: "LayerAggregate",
    keys: ["layer"],
    values: q.metrics,
    sums: ["tokens"],
    runId: q.runId,
    fromStep: lo,
    toStep: hi,
    bucketSize: q.bucketSize,
    where: (ph) => layerFilter(ph, q.layers),
  });
  return rows.map((r) => bucketFromSummaryRow(r, q.metrics, Number(r.b)));
}

/**
 * storedStepRange is the first and last stored step of a run (optionally of one layer) in a table, or null.
 * Two scalar subqueries, not MIN and MAX in one SELECT: SQLite answers each alone from the index's ends,
 * but both together by scanning every index entry of the run (1-3 s at 6.4 M aggregates).
 */
export async function storedStepRange(db: Db, table: string, runId: string, layer?: number): Promise<{ min: number; max: number } | null> {
  const { args, ph } = params(db);
  const where = () => `"runId" = ${ph(runId)}${layer === undefined ? "" : ` AND "layer" = ${ph(layer)}`}`;
  const rows = await queryRows(db, `SELECT (SELECT MIN("step") FROM "${table}" WHERE ${where()}) AS "lo", (SELECT MAX("step") FROM "${table}" WHERE ${where()}) AS "hi"`, args);
  const r = rows[0];
  if (!r || r.lo === null || r.lo === undefined || r.hi === null || r.hi === undefined) return null;
  return { min: Number(r.lo), max: Number(r.hi) };
}

/** GroupedSpec: one table's rows of one run grouped by key columns and step bucket, in the database. */
export interface GroupedSpec {
  table: string;
  /** Columns that, with the bucket, identify a group (e.g. layer; name and layer). */
  keys: readonly string[];
  /** Columns summarized as <col>Min, <col>Max, <col>Sum, <col>N. */
  values: readonly string[];
  /** Columns only summed (e.g. tokens). */
  sums?: readonly string[];
  runId: string;
  fromStep: number;
  toStep: number;
  bucketSize: number;
  /** Extra conditions, starting with " AND ", built with the same parameter builder. */
  where?: (ph: (v: unknown) => string) => string;
}

/**
 * groupedStepBuckets is the single SQL statement behind every series over steps: per key and bucket
 * (floor(step / bucketSize)) the row count, first and last step and min/max/sum/count of each value.
 * Returned rows carry the keys, "b" (the bucket), "steps", "firstStep", "lastStep" and the summaries.
 */
export async function groupedStepBuckets(db: Db, spec: GroupedSpec): Promise<Row[]> {
  const { args, ph } = params(db);
  const keys = spec.keys.map((k) => `"${k}"`);
  const cols = [
    ...spec.values.map((m) => `MIN("${m}") AS "${m}Min", MAX("${m}") AS "${m}Max", SUM("${m}") AS "${m}Sum", COUNT("${m}") AS "${m}N"`),
    ...(spec.sums ?? []).map((c) => `SUM("${c}") AS "${c}"`),
  ];
  // Integer division groups steps into buckets in the database: the caller never sees raw rows.
  return await queryRows(db, `SELECT ${keys.join(", ")}, "step" / CAST(${ph(spec.bucketSize)} AS INTEGER) AS "b", COUNT(*) AS "steps", MIN("step") AS "firstStep",
            MAX("step") AS "lastStep"${cols.map((c) => `, ${c}`).join("")}
       FROM "${spec.table}" WHERE "runId" = ${ph(spec.runId)} AND "step" >= ${ph(spec.fromStep)} AND "step" <= ${ph(spec.toStep)}${spec.where?.(ph) ?? ""}
      GROUP BY ${keys.join(", ")}, "b"`, args);
}

/**
 * Stored 64-step blocks [fromBlock, toBlock] (all closed and stored): when buckets are whole coarse blocks,
 * the coarse blocks inside the range from LayerRollupCoarse and only the 64-step blocks at its edges.
 */
async function readRollupLevels(db: Db, q: BucketQuery, fromBlock: number, toBlock: number): Promise<BucketStats[]> {
  const fromCoarse = Math.ceil(fromBlock / COARSE_FACTOR);
  const toCoarse = Math.floor((toBlock + 1) / COARSE_FACTOR) - 1;
  if (q.bucketSize % COARSE_STEPS !== 0 || toCoarse < fromCoarse) return readRollups(db, q, "LayerRollup", fromBlock, toBlock);
  await ensureCoarseRollups(db, q.runId, q.moeLayers, fromCoarse, toCoarse);
  const parts = await readRollups(db, q, "LayerRollupCoarse", fromCoarse, toCoarse);
  for (const [lo, hi] of [[fromBlock, fromCoarse * COARSE_FACTOR - 1], [(toCoarse + 1) * COARSE_FACTOR, toBlock]]) {
    if (lo <= hi) parts.push(...(await readRollups(db, q, "LayerRollup", lo, hi)));
  }
  return parts;
}

/** Stored blocks [fromBlock, toBlock] of one level: grouped in the database for metrics; row by row when loads are needed. */
async function readRollups(db: Db, q: BucketQuery, table: RollupTable, fromBlock: number, toBlock: number): Promise<BucketStats[]> {
  const blockSteps = table === "LayerRollupCoarse" ? COARSE_STEPS : ROLLUP_STEPS;
  const { args, ph } = params(db);
  if (q.loads) {
    const rows = await queryRows(db, `SELECT "layer", "bucket", "steps", "firstStep", "lastStep", "tokens", "loadMax", "loadMin"${q.metrics
        .map((m) => `, "${m}Min", "${m}Max", "${m}Sum", "${m}N"`)
        .join("")}
         FROM "${table}" WHERE "runId" = ${ph(q.runId)} AND "bucket" >= ${ph(fromBlock)} AND "bucket" <= ${ph(toBlock)}
          AND "steps" > 0${layerFilter(ph, q.layers)}`, args);
    return rows.map((r) => rollupFromRow(r, q.metrics, true, q.bucketSize, blockSteps));
  }
  const perBucket = q.bucketSize / blockSteps;
  const cols = q.metrics.map((m) => `MIN("${m}Min") AS "${m}Min", MAX("${m}Max") AS "${m}Max", SUM("${m}Sum") AS "${m}Sum", SUM("${m}N") AS "${m}N"`);
  const rows = await queryRows(db, `SELECT "layer", "bucket" / CAST(${ph(perBucket)} AS INTEGER) AS "b", SUM("steps") AS "steps", MIN("firstStep") AS "firstStep",
            MAX("lastStep") AS "lastStep", SUM("tokens") AS "tokens"${cols.map((c) => `, ${c}`).join("")}
       FROM "${table}" WHERE "runId" = ${ph(q.runId)} AND "bucket" >= ${ph(fromBlock)} AND "bucket" <= ${ph(toBlock)}
        AND "steps" > 0${layerFilter(ph, q.layers)}
      GROUP BY "layer", "b"`, args);
  return rows.map((r) => bucketFromSummaryRow(r, q.metrics, Number(r.b)));
}

export { METRIC_COLUMNS };
