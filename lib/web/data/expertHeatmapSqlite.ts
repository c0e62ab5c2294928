/**
 * The experts x steps heatmap of one layer read straight through better-sqlite3 on SQLite (issue 9: the
 * one-layer heatmap over all steps must be >= 10x faster than Prometheus's query_range on the same data).
 *
 * Why a second read path next to readStepBuckets: profiling the generic path showed most of its time in
 * Prisma (a run lookup, a step-range query, the newest step, the rollup probe and the row reads each go
 * through the query compiler and decode every row into an object with bigints and Uint8Array copies),
 * then in per-row BucketStats objects with metric maps the heatmap never draws. Here every query is a
 * prepared statement on Prisma's own connection (`db.sqlite()`, as the ingest hot path does) returning
 * plain arrays, and each row's packed load is decoded straight into its column's running maximum
 * (packedMax.ts: decoding was ~90% of the remaining time).
 *
 * It answers exactly what the generic path answers (test/integration/stepBuckets.test.ts compares both
 * with a brute-force fold): columns aligned to step 0, each column's first stored step and each expert's
 * max, closed 64-step blocks read from LayerRollup (whole 512-step blocks from LayerRollupCoarse when
 * columns are 512-step multiples), the partial edges and the open block from LayerAggregate. It never writes: when a closed block in range has no rollup yet it returns undefined
 * and the caller takes the generic path, which builds the missing rollups.
 *
 * Results are cached per (run, layer, range, columns) while the database is unchanged (sqliteAnswerCache.ts),
 * so a repeated request for an unchanged run (a page refresh, a finished run) costs two counter reads.
 */
import BetterSqlite3 from "better-sqlite3";
import { packCounts } from "../../store/packCounts";
import type { ExpertHeatmapDto } from "../../dto";
import { foldPackedMax } from "../../store/packedMax";
import { AnswerCache, changeStamp } from "./sqliteAnswerCache";
import { blockOf, COARSE_FACTOR, COARSE_STEPS, ROLLUP_STEPS } from "../../store/rollups";
import { bucketSizeFor } from "./stepBuckets";

type Conn = BetterSqlite3.Database;

/** ExpertHeatmapOptions: the step range and the most columns a view draws (as getExpertHeatmap takes them). */
export interface ExpertHeatmapOptions {
  fromStep?: number;
  toStep?: number;
  maxColumns?: number;
}

/** Default columns when the caller does not say (the generic path's default too). */
export const DEFAULT_EXPERT_HEATMAP_COLUMNS = 400;

interface Statements {
  run: BetterSqlite3.Statement;
  layerRange: BetterSqlite3.Statement;
  newest: BetterSqlite3.Statement;
  rolledBlocks: BetterSqlite3.Statement;
  rollups: BetterSqlite3.Statement;
  rolledCoarse: BetterSqlite3.Statement;
  coarse: BetterSqlite3.Statement;
  aggregates: BetterSqlite3.Statement;
}

// Per connection: Prisma may reconnect, and a statement belongs to the connection that prepared it.
const prepared = new WeakMap<Conn, Statements>();

function statements(conn: Conn): Statements {
  let s = prepared.get(conn);
  if (s) return s;
  // Plain numbers, not the bigints Prisma's adapter turns on for the connection: steps and counts fit.
  const prep = (sql: string, raw = true) => {
    const st = conn.prepare(sql).safeIntegers(false);
    return raw ? st.raw(true) : st;
  };
  s = {
    run: prep(`SELECT "moeLayers", "numExperts" FROM "Run" WHERE "id" = ?`),
    // Two scalar subqueries: each is answered from one end of the primary key (see storedStepRange).
    layerRange: prep(
      `SELECT (SELECT MIN("step") FROM "LayerAggregate" WHERE "runId" = ? AND "layer" = ?),
              (SELECT MAX("step") FROM "LayerAggregate" WHERE "runId" = ? AND "layer" = ?)`,
    ),
    newest: prep(`SELECT MAX("step") FROM "LayerAggregate" WHERE "runId" = ?`),
    rolledBlocks: prep(
      `SELECT COUNT(*) FROM "LayerRollup" WHERE "runId" = ? AND "layer" = ? AND "bucket" >= ? AND "bucket" <= ?`,
    ),
    rollups: prep(
      `SELECT "bucket", "firstStep", "loadMax" FROM "LayerRollup"
        WHERE "runId" = ? AND "layer" = ? AND "bucket" >= ? AND "bucket" <= ? AND "steps" > 0`,
    ),
    rolledCoarse: prep(
      `SELECT COUNT(*) FROM "LayerRollupCoarse" WHERE "runId" = ? AND "layer" = ? AND "bucket" >= ? AND "bucket" <= ?`,
    ),
    coarse: prep(
      `SELECT "bucket", "firstStep", "loadMax" FROM "LayerRollupCoarse"
        WHERE "runId" = ? AND "layer" = ? AND "bucket" >= ? AND "bucket" <= ? AND "steps" > 0`,
    ),
    // The step twice: every read returns (key, first step, packed load) rows, folded by one loop (foldRows).
    aggregates: prep(
      `SELECT "step", "step", "load" FROM "LayerAggregate" WHERE "runId" = ? AND "layer" = ? AND "step" >= ? AND "step" <= ?`,
    ),
  };
  prepared.set(conn, s);
  return s;
}

/**
 * warmExpertHeatmapSqlite prepares the heatmap's statements on a connection ahead of its first request (the
 * dashboard server calls it at start, so the first heatmap after the data is in does not pay for them).
 */
export function warmExpertHeatmapSqlite(conn: Conn): void {
  statements(conn);
  changeStamp(conn);
}

/** Columns being built: display bucket -> first step and each expert's max so far. */
class Columns {
  private readonly byBucket = new Map<number, { step: number; load: number[] }>();

  fold(bucket: number, step: number, packedLoad: Uint8Array): void {
    let c = this.byBucket.get(bucket);
    if (!c) this.byBucket.set(bucket, (c = { step, load: [] }));
    else if (step < c.step) c.step = step;
    foldPackedMax(packedLoad, c.load);
  }

  sorted(): ExpertHeatmapDto["columns"] {
    return [...this.byBucket.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
  }
}

/** Row: a block number (or a step), the first step it holds, and its packed per-expert load (or maximum). */
type Row = [number, number, Uint8Array];

/** foldRows folds rows into columns of `perColumn` keys each (the one loop every read goes through). */
function foldRows(columns: Columns, rows: Row[], perColumn: number): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    columns.fold(Math.floor(r[0] / perColumn), r[1], r[2]);
  }
}

/**
 * warmExpertHeatmapCode gets the read loop optimized before the first request: synthetic loads (8, 64 and 256
 * experts) are stored in a private in-memory database and read back and folded through foldRows several times,
 * so V8 sees the same rows (driver arrays and Buffers) as real reads. Returns the last heatmap built (the
 * caller serializes it once, for the same reason). Why: right after start this code runs in the interpreter;
 * in process, a 977-step heatmap of 8 experts took ~10-20 ms on its first read and ~2-3 ms a few reads later.
 */
export function warmExpertHeatmapCode(): ExpertHeatmapDto {
  const mem = new BetterSqlite3(":memory:");
  try {
    mem.exec(`CREATE TABLE "Warm" ("step" INTEGER NOT NULL, "load" BLOB NOT NULL)`);
    const insert = mem.prepare(`INSERT INTO "Warm" VALUES (?, ?)`);
    const read = mem.prepare(`SELECT "step", "step", "load" FROM "Warm" WHERE "step" >= ? AND "step" <= ?`).safeIntegers(false).raw(true);
    let dto: ExpertHeatmapDto | null = null;
    for (const experts of [8, 64, 256]) {
      const steps = Math.ceil(16_000 / experts);
      mem.exec(`DELETE FROM "Warm"`);
      mem.transaction(() => {
        for (let step = 1; step <= steps; step++) {
          insert.run(step, Buffer.from(packCounts(Array.from({ length: experts }, (_, e) => 1_000 + ((step * 31 + e * 17) % 257)))));
        }
      })();
      for (let round = 0; round < 4; round++) {
        const columns = new Columns();
        foldRows(columns, read.all(0, steps) as Row[], 3);
        dto = { runId: "warm-up", layer: 1, numExperts: experts, bucketSize: 3, columns: columns.sorted() };
      }
    }
    return dto!;
  } finally {
    mem.close();
  }
}

/**
 * readExpertHeatmapSqlite returns the heatmap, null when the run or the layer does not exist, or undefined
 * when a closed block in range is not rolled up yet (the caller's generic path rolls it up).
 */
export function readExpertHeatmapSqlite(conn: Conn, runId: string, layer: number, opts: ExpertHeatmapOptions = {}): ExpertHeatmapDto | null | undefined {
  const st = statements(conn);
  const run = st.run.get(runId) as [string, number] | undefined;
  if (!run) return null;
  const moeLayers = JSON.parse(run[0]) as number[];
  const numExperts = run[1];
  if (!moeLayers.includes(layer)) return null;
  const [lo, hi] = st.layerRange.get(runId, layer, runId, layer) as [number | null, number | null];
  if (lo === null || hi === null) return { runId, layer, numExperts, bucketSize: 1, columns: [] };
  const from = Math.max(opts.fromStep ?? lo, lo);
  const to = Math.min(opts.toStep ?? hi, hi);
  const bucketSize = bucketSizeFor(from, to, opts.maxColumns ?? DEFAULT_EXPERT_HEATMAP_COLUMNS);
  const out: ExpertHeatmapDto = { runId, layer, numExperts, bucketSize, columns: [] };
  if (from > to) return out;
  const columns = new Columns();
  let rawRanges: Array<[number, number]> = [[from, to]];
  // The same block arithmetic as readStepBuckets: whole blocks inside [from, to] come from LayerRollup.
  if (bucketSize % ROLLUP_STEPS === 0) {
    const fromBlock = from <= lo ? Math.floor(from / ROLLUP_STEPS) : Math.ceil(from / ROLLUP_STEPS);
    const toBlock = Math.floor((to + 1) / ROLLUP_STEPS) - 1;
    if (toBlock >= fromBlock) {
      const newest = (st.newest.get(runId) as [number | null])[0] ?? -1;
      const lastBlock = Math.min(toBlock, blockOf(newest) - 1);
      if (lastBlock >= fromBlock) {
        // Every rebuilt block has a row for every MoE layer, so a count on the first one tells "all rolled up".
        const have = (st.rolledBlocks.get(runId, moeLayers[0], fromBlock, lastBlock) as [number])[0];
        if (have < lastBlock - fromBlock + 1) return undefined;
        let fineRanges: Array<[number, number]> = [[fromBlock, lastBlock]];
        // Whole coarse blocks from LayerRollupCoarse when columns are made of them (as readStepBuckets does).
        const fromCoarse = Math.ceil(fromBlock / COARSE_FACTOR);
        const toCoarse = Math.floor((lastBlock + 1) / COARSE_FACTOR) - 1;
        if (bucketSize % COARSE_STEPS === 0 && toCoarse >= fromCoarse) {
          const haveCoarse = (st.rolledCoarse.get(runId, moeLayers[0], fromCoarse, toCoarse) as [number])[0];
          if (haveCoarse < toCoarse - fromCoarse + 1) return undefined;
          foldRows(columns, st.coarse.all(runId, layer, fromCoarse, toCoarse) as Row[], bucketSize / COARSE_STEPS);
          fineRanges = [
            [fromBlock, fromCoarse * COARSE_FACTOR - 1],
            [(toCoarse + 1) * COARSE_FACTOR, lastBlock],
          ];
        }
        for (const [a, b] of fineRanges) {
          if (a <= b) foldRows(columns, st.rollups.all(runId, layer, a, b) as Row[], bucketSize / ROLLUP_STEPS);
        }
        rawRanges = [
          [from, fromBlock * ROLLUP_STEPS - 1],
          [(lastBlock + 1) * ROLLUP_STEPS, to],
        ];
      }
    }
  }
  for (const [a, b] of rawRanges) {
    if (a <= b) foldRows(columns, st.aggregates.all(runId, layer, a, b) as Row[], bucketSize);
  }
  out.columns = columns.sorted();
  return out;
}

/**
 * Cache bounds: entries and numbers held. A 400-column heatmap of 64 experts is 25.6k numbers; the widest
 * request, 5,000 columns x 256 experts, is 1.28 M (~10 MB as JS arrays). An answer above a quarter of the
 * budget is not cached at all, so the cache stays under ~30 MB per connection.
 */
const cache = new AnswerCache<ExpertHeatmapDto | null | undefined>(64, 4_000_000);

/**
 * cachedExpertHeatmapSqlite is readExpertHeatmapSqlite behind an AnswerCache (sqliteAnswerCache.ts): an entry
 * is used only while the database has not changed since it was read. Callers get the cached object: they
 * must not modify it.
 */
export function cachedExpertHeatmapSqlite(conn: Conn, runId: string, layer: number, opts: ExpertHeatmapOptions = {}): Promise<ExpertHeatmapDto | null | undefined> {
  const key = `${runId}\u0000${layer}\u0000${opts.fromStep ?? ""}\u0000${opts.toStep ?? ""}\u0000${opts.maxColumns ?? ""}`;
  return cache.read(
    conn,
    key,
    (dto) => (dto ? dto.columns.length * Math.max(1, dto.numExperts) : 0),
    async () => readExpertHeatmapSqlite(conn, runId, layer, opts),
  );
}
