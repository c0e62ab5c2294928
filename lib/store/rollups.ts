/**
 * Stored per-layer rollups of LayerAggregate over fixed 64-step blocks (table LayerRollup), so a view
 * over 100k steps x 64 layers reads ~100k small rows instead of 6.4 M aggregates with their packed loads.
 *
 * Why rebuilt from the stored aggregates rather than folded incrementally: an aggregate is replaced each
 * time another rank of its step reports, and a min or max cannot be "un-folded"; re-reading one block
 * (64 steps) is cheap and always right. When:
 *  - after each collector flush (`refreshRollupsAfterFlush`): a block is rebuilt once it is closed (the flush
 *    touched a later block) and again whenever a late report changes a step of a closed block;
 *  - when a view reads a closed block that has no rollup yet (`ensureRollups`: runs stored before
 *    rollups existed, imports, a collector that died between commit and rollup). The block that holds the
 *    run's newest step is never stored: views read it from the aggregates.
 * Every rebuilt block gets a row for every MoE layer (empty ones have steps = 0), so "is this block rolled
 * up" is one primary-key lookup per block.
 *
 * A second, coarser level (table LayerRollupCoarse, 512-step blocks = 8 LayerRollup blocks) is merged from
 * the 64-step rows with the same mergeBucket, so views with 512-multiple buckets over long runs read ~8x
 * fewer rows. It stays consistent the same way: every rebuild of a 64-step block rebuilds the coarse block
 * holding it, which is written only once all eight of its 64-step blocks exist (so only closed ones);
 * views fill missing coarse blocks lazily (`ensureCoarseRollups`) after filling the 64-step blocks.
 */
import { packCounts, unpackCounts } from "./packCounts";
import { bucketFromSummaryRow, emptyBucket, foldPoint, mergeBucket, METRIC_COLUMNS, type BucketStats, type MetricColumn } from "./bucketStats";
import type { Db } from "./db";
import type { RefreshedAggregate } from "./ingestStore";

/** ROLLUP_STEPS: steps per stored block; display buckets of at least this size are multiples of it. */
export const ROLLUP_STEPS = 64;

/** COARSE_FACTOR: 64-step blocks per coarse block; COARSE_STEPS: steps per coarse block. */
export const COARSE_FACTOR = 8;
export const COARSE_STEPS = ROLLUP_STEPS * COARSE_FACTOR;

/** RollupTable: the table of one rollup level. */
export type RollupTable = "LayerRollup" | "LayerRollupCoarse";

/** blockOf is the rollup block holding `step`. */
export function blockOf(step: number): number {
  return Math.floor(step / ROLLUP_STEPS);
}

// Blocks rebuilt per statement batch: 16 blocks x 64 layers x 64 steps = 65k aggregate rows read at most.
const BLOCKS_PER_PASS = 16;
const ROWS_PER_INSERT = 200;

const ROLLUP_COLUMNS = [
  "runId", "layer", "bucket", "steps", "firstStep", "lastStep", "tokens", "loadMax", "loadMin",
  ...METRIC_COLUMNS.flatMap((m) => [`${m}Min`, `${m}Max`, `${m}Sum`, `${m}N`]),
];

type Row = Record<string, unknown>;

/** rollupRowValues is the LayerRollup row of one folded block. */
function rollupRowValues(runId: string, b: BucketStats): unknown[] {
  const values: unknown[] = [
    runId, b.layer, b.bucket, b.steps, b.steps ? b.firstStep : 0, b.steps ? b.lastStep : 0, b.tokens,
    packCounts(b.loadMax ?? []), packCounts(b.loadMin ?? []),
  ];
  for (const m of METRIC_COLUMNS) {
    const s = b.metrics[m];
    values.push(s?.min ?? null, s?.max ?? null, s && s.n > 0 ? s.sum : null, s?.n ?? 0);
  }
  return values;
}

/** rollupFromRow reads a LayerRollup row back as a partial bucket of the display bucket that holds its block. */
export function rollupFromRow(
  r: Record<string, unknown>,
  metrics: readonly MetricColumn[],
  withLoads: boolean,
  bucketSize: number,
  blockSteps: number = ROLLUP_STEPS,
): BucketStats {
  const b = bucketFromSummaryRow(r, metrics, Math.floor((Number(r.bucket) * blockSteps) / bucketSize));
  if (withLoads) {
    b.loadMax = unpackCounts(r.loadMax as Uint8Array);
    b.loadMin = unpackCounts(r.loadMin as Uint8Array);
  }
  return b;
}

/** rebuildRollups recomputes the given blocks of a run from its stored aggregates (every MoE layer gets a row). */
export async function rebuildRollups(db: Db, runId: string, moeLayers: readonly number[], blocks: readonly number[]): Promise<void> {
  const sorted = [...new Set(blocks)].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i += BLOCKS_PER_PASS) {
    const pass = sorted.slice(i, i + BLOCKS_PER_PASS);
    const lo = pass[0] * ROLLUP_STEPS;
    const hi = (pass[pass.length - 1] + 1) * ROLLUP_STEPS - 1;
    const wanted = new Set(pass);
    const p = db.sql.param;
    // The layers are named so SQLite seeks one primary-key range per layer (see stepBuckets.ts).
    const rows = (await db.prisma.$queryRawUnsafe(
      `SELECT "layer", "step", "tokens", "load", ${METRIC_COLUMNS.map((m) => `"${m}"`).join(", ")}
         FROM "LayerAggregate" WHERE "runId" = ${p(1)} AND "step" >= ${p(2)} AND "step" <= ${p(3)}
          AND "layer" IN (${moeLayers.map((_, i) => p(4 + i)).join(", ")})`,
      runId, lo, hi, ...moeLayers,
    )) as Row[];
    const folded = new Map<string, BucketStats>();
    for (const block of pass) for (const layer of moeLayers) folded.set(`${layer}/${block}`, emptyBucket(layer, block));
    for (const r of rows) {
      const step = Number(r.step);
      const block = blockOf(step);
      if (!wanted.has(block)) continue;
      const layer = Number(r.layer);
      const key = `${layer}/${block}`;
      let b = folded.get(key);
      if (!b) folded.set(key, (b = emptyBucket(layer, block)));
      const metrics: Partial<Record<MetricColumn, number | null>> = {};
      for (const m of METRIC_COLUMNS) metrics[m] = r[m] === null || r[m] === undefined ? null : Number(r[m]);
      foldPoint(b, { layer, step, tokens: Number(r.tokens ?? 0), metrics, load: unpackCounts(r.load as Uint8Array) });
    }
    await upsertRollups(db, "LayerRollup", runId, [...folded.values()]);
  }
  await rebuildCoarse(db, runId, moeLayers, sorted.map((b) => Math.floor(b / COARSE_FACTOR)));
}

/**
 * rebuildCoarse recomputes the given coarse blocks from their 64-step rollups; a coarse block is written only
 * when all eight of its 64-step blocks are stored (every rebuilt block has a row for every MoE layer, so the
 * first layer's rows tell), otherwise it is left to a later rebuild or to a view.
 */
export async function rebuildCoarse(db: Db, runId: string, moeLayers: readonly number[], coarseBlocks: readonly number[]): Promise<void> {
  if (moeLayers.length === 0) return;
  const sorted = [...new Set(coarseBlocks)].sort((a, b) => a - b);
  const perPass = Math.max(1, Math.floor(BLOCKS_PER_PASS / 2));
  for (let i = 0; i < sorted.length; i += perPass) {
    const pass = sorted.slice(i, i + perPass);
    const p = db.sql.param;
    const rows = (await db.prisma.$queryRawUnsafe(
      `SELECT * FROM "LayerRollup" WHERE "runId" = ${p(1)} AND "bucket" >= ${p(2)} AND "bucket" <= ${p(3)}
          AND "layer" IN (${moeLayers.map((_, i) => p(4 + i)).join(", ")})`,
      runId, pass[0] * COARSE_FACTOR, (pass[pass.length - 1] + 1) * COARSE_FACTOR - 1, ...moeLayers,
    )) as Row[];
    const wanted = new Set(pass);
    const complete = new Map<number, number>();
    for (const r of rows) if (Number(r.layer) === moeLayers[0]) complete.set(Math.floor(Number(r.bucket) / COARSE_FACTOR), (complete.get(Math.floor(Number(r.bucket) / COARSE_FACTOR)) ?? 0) + 1);
    const folded = new Map<string, BucketStats>();
    for (const c of pass) {
      if (complete.get(c) !== COARSE_FACTOR) continue;
      for (const layer of moeLayers) folded.set(`${layer}/${c}`, emptyBucket(layer, c));
    }
    for (const r of rows) {
      const part = rollupFromRow(r, METRIC_COLUMNS, true, COARSE_STEPS);
      if (!wanted.has(part.bucket)) continue;
      const into = folded.get(`${part.layer}/${part.bucket}`);
      if (into) mergeBucket(into, part);
    }
    await upsertRollups(db, "LayerRollupCoarse", runId, [...folded.values()]);
  }
}

/**
 * ensureCoarseRollups fills the coarse blocks in [fromCoarse, toCoarse] that have no rows yet; the caller has
 * made sure (ensureRollups) that their 64-step blocks are stored.
 */
export async function ensureCoarseRollups(db: Db, runId: string, moeLayers: readonly number[], fromCoarse: number, toCoarse: number): Promise<void> {
  if (moeLayers.length === 0 || toCoarse < fromCoarse) return;
  const missing = await missingBlocks(db, runId, moeLayers[0], fromCoarse, toCoarse, "LayerRollupCoarse");
  if (missing.length > 0) await rebuildCoarse(db, runId, moeLayers, missing);
}

async function upsertRollups(db: Db, table: RollupTable, runId: string, buckets: BucketStats[]): Promise<void> {
  const updates = ROLLUP_COLUMNS.slice(3).map((c) => `"${c}" = excluded."${c}"`).join(", ");
  const cols = ROLLUP_COLUMNS.map((c) => `"${c}"`).join(", ");
  for (let i = 0; i < buckets.length; i += ROWS_PER_INSERT) {
    const chunk = buckets.slice(i, i + ROWS_PER_INSERT);
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO "${table}" (${cols}) VALUES ${db.sql.placeholders(chunk.length, ROLLUP_COLUMNS.length)}
         ON CONFLICT ("runId", "layer", "bucket") DO UPDATE SET ${updates}`,
      ...chunk.flatMap((b) => rollupRowValues(runId, b)),
    );
  }
}

/** missingBlocks lists the blocks in [fromBlock, toBlock] that have no rollup rows yet. */
async function missingBlocks(
  db: Db,
  runId: string,
  probeLayer: number,
  fromBlock: number,
  toBlock: number,
  table: RollupTable = "LayerRollup",
): Promise<number[]> {
  if (toBlock < fromBlock) return [];
  const p = db.sql.param;
  const rows = (await db.prisma.$queryRawUnsafe(
    `SELECT "bucket" FROM "${table}" WHERE "runId" = ${p(1)} AND "layer" = ${p(2)} AND "bucket" >= ${p(3)} AND "bucket" <= ${p(4)}`,
    runId, probeLayer, fromBlock, toBlock,
  )) as Row[];
  const have = new Set(rows.map((r) => Number(r.bucket)));
  const missing: number[] = [];
  for (let b = fromBlock; b <= toBlock; b++) if (!have.has(b)) missing.push(b);
  return missing;
}

/**
 * ensureRollups makes sure every closed block in [fromBlock, toBlock] is rolled up (filling missing ones
 * from the aggregates) and returns the last block a view may read from LayerRollup (blocks after it are
 * still open and must be read from the aggregates).
 */
export async function ensureRollups(
  db: Db,
  runId: string,
  moeLayers: readonly number[],
  fromBlock: number,
  toBlock: number,
  newestStep: number,
): Promise<number> {
  const lastClosed = Math.min(toBlock, blockOf(newestStep) - 1);
  if (moeLayers.length === 0 || lastClosed < fromBlock) return lastClosed;
  const missing = await missingBlocks(db, runId, moeLayers[0], fromBlock, lastClosed);
  if (missing.length > 0) await rebuildRollups(db, runId, moeLayers, missing);
  return lastClosed;
}

/**
 * refreshRollupsAfterFlush is called by the collector after each committed flush with the aggregates it
 * refreshed: it rebuilds the closed blocks the flush changed and rolls up the block just before the
 * newest one when that has not been done yet. Most flushes touch only the open block and cost one lookup.
 */
export async function refreshRollupsAfterFlush(db: Db, refreshed: readonly RefreshedAggregate[]): Promise<void> {
  const byRun = new Map<string, { moeLayers: readonly number[]; blocks: Set<number> }>();
  for (const r of refreshed) {
    let t = byRun.get(r.run.id);
    if (!t) byRun.set(r.run.id, (t = { moeLayers: r.run.moeLayers, blocks: new Set() }));
    t.blocks.add(blockOf(r.aggregate.step));
  }
  for (const [runId, { moeLayers, blocks }] of byRun) {
    if (moeLayers.length === 0) continue;
    // A flush may carry only late reports of an old block: the open block is the run's newest, not the flush's.
    const newest = Math.max(...blocks, blockOf(await newestStep(db, runId)));
    const rebuild = [...blocks].filter((b) => b < newest);
    if (newest > 0 && !blocks.has(newest - 1)) rebuild.push(...(await missingBlocks(db, runId, moeLayers[0], newest - 1, newest - 1)));
    if (rebuild.length > 0) await rebuildRollups(db, runId, moeLayers, rebuild);
  }
}

/** newestStep is the run's newest aggregated step (-1 without any). */
export async function newestStep(db: Db, runId: string): Promise<number> {
  const rows = (await db.prisma.$queryRawUnsafe(
    `SELECT MAX("step") AS hi FROM "LayerAggregate" WHERE "runId" = ${db.sql.param(1)}`,
    runId,
  )) as Row[];
  const hi = rows[0]?.hi;
  return hi === null || hi === undefined ? -1 : Number(hi);
}
