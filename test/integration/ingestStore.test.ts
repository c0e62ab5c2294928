/**
 * The write path on a real database: the aggregates a flush writes equal the ones recomputed from the
 * stored rows, also when the reports of a (step, layer) arrive over several flushes, across a reopen of
 * the database (a restarted collector), with resends (the first write wins), and for a step that left the
 * writer's memory before its last ranks reported.
 */
import { afterEach, describe, expect, it } from "vitest";
import { aggregateLayer } from "../../lib/analysis/aggregateLayer";
import { unpackCounts } from "../../lib/store/packCounts";
import type { LayerReport } from "../../lib/analysis/types";
import { openDatabase, type Db } from "../../lib/store/db";
import { writeBatches, type PendingBatch } from "../../lib/store/ingestStore";
import { registerRun, upsertRank, type RunRecord } from "../../lib/store/runsRepo";
import { layerReportFromRow } from "../../lib/store/layerReportRows";
import { SqliteReportWriter } from "../../lib/store/sqliteReportWriter";
import { layersOfStage, report, smallRanks, smallRun, tempDatabaseUrl } from "./harness";

const ranks = smallRanks();
let seq = 0;

function batch(run: RunRecord, rank: number, steps: number[], tweak?: (r: LayerReport) => LayerReport): PendingBatch {
  const pp = ranks[rank].coords.pp;
  const layers = steps.flatMap((step) => layersOfStage(pp).map((l) => report(rank, step, l))).map((r) => (tweak ? tweak(r) : r));
  return { run, rank, seq: ++seq, layers, steps: steps.map((step) => ({ step, iterationTimeMs: 100 })), droppedBatches: 0 };
}

/** Recomputes every stored aggregate of the run from its stored rows and compares. */
async function expectAggregatesMatchRows(db: Db, run: RunRecord): Promise<number> {
  const rows = await db.prisma.layerReport.findMany({ where: { runId: run.id } });
  const groups = new Map<string, typeof rows>();
  for (const r of rows) {
    const k = `${r.step}/${r.layer}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const aggregates = await db.prisma.layerAggregate.findMany({ where: { runId: run.id } });
  expect(aggregates.length).toBe(groups.size);
  for (const a of aggregates) {
    const group = groups.get(`${a.step}/${a.layer}`) ?? [];
    const expected = aggregateLayer(
      a.step,
      a.layer,
      group.map((r) => ({ rank: r.rank, coords: ranks[r.rank].coords, report: layerReportFromRow(r.step, r) })),
      run.config,
      run.worldSize,
    );
    const dispatchedLoad = a.dispatchedLoad ? unpackCounts(a.dispatchedLoad) : null;
    expect({ step: a.step, layer: a.layer, ranksReported: a.ranksReported, tokens: Number(a.tokens), load: unpackCounts(a.load), dispatchedLoad, cv: a.cv })
      .toEqual({
        step: a.step, layer: a.layer, ranksReported: expected.ranksReported, tokens: expected.tokens, load: expected.load,
        dispatchedLoad: expected.dispatchedLoad, cv: expected.cv,
      });
  }
  return aggregates.length;
}

describe("writeBatches", () => {
  const open: Db[] = [];
  afterEach(async () => {
    for (const db of open.splice(0)) await db.close();
  });
  async function connect(url: string): Promise<Db> {
    const db = await openDatabase(url);
    open.push(db);
    return db;
  }

  it("writes aggregates equal to the stored rows' across flushes, a reopen and resends", async () => {
    const url = tempDatabaseUrl();
    let db = await connect(url);
    const { run } = await registerRun(db, smallRun("writer"));
    for (const r of ranks) await upsertRank(db, run.id, r, "test");

    // Ranks 0 and 4 for step 1 in one flush; rank 0 resent with other counts in the same and a later flush.
    const changed = (r: LayerReport): LayerReport => ({ ...r, tokensPerExpert: [32, 0, 0, 0] });
    const flush1 = [batch(run, 0, [1]), batch(run, 4, [1]), batch(run, 0, [1], changed)];
    const first = await writeBatches(db, flush1, 1);
    expect(first.map((x) => [x.aggregate.layer, x.aggregate.ranksReported]).sort()).toEqual([[2, 1], [3, 1], [4, 1]]);
    // The rewrite with other counts is refused by its key; the identical records are not.
    expect(flush1.map((b) => b.conflicts?.map((r) => [r.code, r.field]))).toEqual([undefined, undefined, [["ALREADY_EXISTS", "layers[0]"]]]);
    expect(flush1[2].conflicts?.[0].reason).toMatch(/^conflicts with the stored report \(run writer, step 1, layer 2, rank 0\): counts differ/);
    const again = [batch(run, 0, [1])];
    await writeBatches(db, again, 2);
    expect(again[0].conflicts).toBeUndefined();
    const resent = await writeBatches(db, [batch(run, 0, [1], changed)], 2);
    // Nothing new: SQLite's writer refreshes nothing; PostgreSQL's recomputes the same aggregates from the rows.
    if (db.sqlite()) expect(resent).toEqual([]);
    await expectAggregatesMatchRows(db, run);

    // A restarted collector: new connection, empty memory; the earlier rows come from the table.
    await db.close();
    open.splice(0);
    db = await connect(url);
    await writeBatches(db, [1, 2, 3, 5, 6, 7].map((rank) => batch(run, rank, [1, 2])), 3);
    await writeBatches(db, [batch(run, 0, [2]), batch(run, 4, [2]), batch(run, 3, [2], changed)], 4);
    expect(await expectAggregatesMatchRows(db, run)).toBe(6);
    const step1 = await db.prisma.layerAggregate.findMany({ where: { runId: run.id, step: 1 } });
    expect(step1.map((a) => a.ranksReported)).toEqual([4, 4, 4]);
    const rank0 = await db.prisma.layerReport.findFirstOrThrow({ where: { runId: run.id, step: 1, layer: 2, rank: 0 } });
    expect(unpackCounts(rank0.counts)).toEqual(report(0, 1, 2).tokensPerExpert); // the first write won
  });

  it("with a capacity factor: stores the router load from the counts before dropping and the dispatched load beside it", async () => {
    const url = tempDatabaseUrl();
    let db = await connect(url);
    const info = smallRun("capacity");
    const { run } = await registerRun(db, { ...info, config: { ...info.config, moe_expert_capacity_factor: 1 } });
    for (const r of ranks) await upsertRank(db, run.id, r, "test");
    // 16 tokens over 2 micro-batches, top-2 of 4 experts: C = ceil(8 * 2 / 4 * 1.0) = 4 per micro-batch, 8
    // per step. The router's counts are report()'s; what was dispatched is each capped at 8.
    const capped = (r: LayerReport): LayerReport => {
      const dispatched = r.tokensPerExpert.map((c) => Math.min(c, 8));
      const dropped = r.tokensPerExpert.reduce((n, c) => n + c, 0) - dispatched.reduce((n, c) => n + c, 0);
      return { ...r, tokensPerExpert: dispatched, tokensPerExpertBeforeDrop: r.tokensPerExpert, dropped };
    };
    await writeBatches(db, [batch(run, 0, [1], capped), batch(run, 4, [1], capped)], 1);
    // A restarted collector: the writer's memory is empty and ranks 0 and 4 come back from the table.
    await db.close();
    open.splice(0);
    db = await connect(url);
    await writeBatches(db, [1, 2, 3, 5, 6, 7].map((rank) => batch(run, rank, [1], capped)), 2);
    expect(await expectAggregatesMatchRows(db, run)).toBe(3);
    const a = await db.prisma.layerAggregate.findFirstOrThrow({ where: { runId: run.id, step: 1, layer: 2 } });
    const stage0 = [0, 1, 2, 3];
    const sum = (f: (c: number[]) => number[]) => stage0.reduce((acc, rank) => f(report(rank, 1, 2).tokensPerExpert).map((c, e) => acc[e] + c), [0, 0, 0, 0]);
    // Stage 0, step 1, layer 2: a = (rank + 3) % 8 = 3..6 -> router counts [11,5,8,8], [12,4,9,7], [13,3,10,6], [14,2,8,8].
    expect(unpackCounts(a.load)).toEqual(sum((c) => c));
    expect(unpackCounts(a.load)).toEqual([50, 14, 35, 29]);
    expect(a.dispatchedLoad && unpackCounts(a.dispatchedLoad)).toEqual([32, 14, 32, 29]);
    // Router MaxVio: 50 / 32 - 1, not the dispatched 32 / 26.75 - 1.
    expect(a.maxVio).toBeCloseTo(50 / 32 - 1, 12);
  });

  it("without a capacity factor stores no dispatched load", async () => {
    const db = await connect(tempDatabaseUrl());
    const { run } = await registerRun(db, smallRun("no-capacity"));
    for (const r of ranks) await upsertRank(db, run.id, r, "test");
    await writeBatches(db, ranks.map((r) => batch(run, r.rank, [1])), 1);
    const rows = await db.prisma.layerAggregate.findMany({ where: { runId: run.id } });
    expect(rows.map((r) => r.dispatchedLoad)).toEqual([null, null, null]);
  });

  it("stays exact when another connection writes the same file between flushes", async () => {
    const url = tempDatabaseUrl();
    const one = await connect(url);
    const other = await connect(url);
    const { run } = await registerRun(one, smallRun("two-writers"));
    for (const r of ranks) await upsertRank(one, run.id, r, "test");
    await writeBatches(one, [batch(run, 0, [1]), batch(run, 4, [1])], 1);
    await writeBatches(other, [batch(run, 1, [1]), batch(run, 5, [1])], 2);
    await writeBatches(one, [2, 3, 6, 7].map((rank) => batch(run, rank, [1])), 3);
    const step1 = await one.prisma.layerAggregate.findMany({ where: { runId: run.id, step: 1 } });
    expect(step1.map((a) => a.ranksReported)).toEqual([4, 4, 4]);
    expect(await expectAggregatesMatchRows(one, run)).toBe(3);
  });

  it("stays exact when one flush writes more runs than the writer keeps in memory", async () => {
    const db = await connect(tempDatabaseUrl());
    const runs: RunRecord[] = [];
    for (let i = 0; i < 34; i++) {
      const { run } = await registerRun(db, smallRun(`many-${i}`));
      for (const r of ranks.slice(0, 2)) await upsertRank(db, run.id, r, "test");
      runs.push(run);
    }
    // Ranks 0 and 1 share layer 2; between a run's two batches 33 other runs pass through memory.
    await writeBatches(db, [...runs.map((run) => batch(run, 0, [1])), ...runs.map((run) => batch(run, 1, [1]))], 1);
    for (const run of runs) {
      const a = await db.prisma.layerAggregate.findFirstOrThrow({ where: { runId: run.id, step: 1, layer: 2 } });
      expect(a.ranksReported).toBe(2);
    }
  });

  it("reloads a step that left memory before its last ranks reported", async () => {
    const db = await connect(tempDatabaseUrl());
    const { run } = await registerRun(db, smallRun("evicted"));
    for (const r of ranks) await upsertRank(db, run.id, r, "test");
    const many = Array.from({ length: 200 }, (_, i) => i + 1);
    await writeBatches(db, [batch(run, 0, many)], 1);
    await writeBatches(db, [batch(run, 1, [1]), batch(run, 2, [1, 200])], 2);
    await writeBatches(db, [batch(run, 3, [1])], 3);
    const step1 = await db.prisma.layerAggregate.findFirstOrThrow({ where: { runId: run.id, step: 1, layer: 2 } });
    expect(step1.ranksReported).toBe(4);
    expect(await expectAggregatesMatchRows(db, run)).toBe(200);
  });

  it("keeps its report memory under its budget and stays exact when that evicts unfinished steps", async () => {
    const db = await connect(tempDatabaseUrl());
    const conn = db.sqlite();
    if (!conn) return; // the memory exists only on SQLite's write path
    const { run } = await registerRun(db, smallRun("budget"));
    for (const r of ranks) await upsertRank(db, run.id, r, "test");
    const budget = 500; // ~13 reports of 4 experts; 100 are written per flush
    const writer = new SqliteReportWriter(conn, { maxCachedCost: budget });
    const many = Array.from({ length: 50 }, (_, i) => i + 1);
    writer.write([batch(run, 0, many), batch(run, 1, many)], 1);
    expect(writer.heldCost()).toBeGreaterThan(0);
    expect(writer.heldCost()).toBeLessThanOrEqual(budget);
    writer.write([2, 3].map((rank) => batch(run, rank, many)), 2);
    expect(writer.heldCost()).toBeLessThanOrEqual(budget);
    const step1 = await db.prisma.layerAggregate.findFirstOrThrow({ where: { runId: run.id, step: 1, layer: 2 } });
    expect(step1.ranksReported).toBe(4);
    expect(await expectAggregatesMatchRows(db, run)).toBe(50); // ranks 0-3 are the stage holding layer 2
  });
});
