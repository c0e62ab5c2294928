/**
 * The SQLite ingest hot path: a flush written through better-sqlite3 prepared statements on Prisma's own
 * connection, in one synchronous BEGIN IMMEDIATE transaction, with the (step, layer) aggregates
 * computed from reports kept in memory instead of re-reading every stored row of the touched steps.
 *
 * The memory is exact, not a guess: the first time this process touches a (run, step) it loads whatever
 * is already stored for that step (nothing, normally; the earlier rows after a restart), and afterwards
 * adds exactly the rows its own inserts stored (`changes === 1`; a resend that hits a stored row adds
 * nothing, the first write wins). So an aggregate computed here equals one recomputed from the stored
 * rows. Another process writing the same file (a second collector, the dashboard) would make the memory
 * stale: SQLite's `data_version` changes whenever another connection commits, so each flush checks it
 * inside its write transaction (no commit can slip in after the check) and starts from the table again
 * if it moved. PostgreSQL, where several collectors share a run, keeps the re-reading path in
 * ingestStore.ts.
 *
 * A (step, layer) all of whose stage's ranks reported is dropped from memory (marked, so a stray later
 * row reloads it from the table), at most MAX_CACHED_STEPS steps per run are kept, and the whole memory is
 * held under MAX_CACHED_COST (oldest steps of the least recently written runs leave first): the collector's
 * RSS must stay bounded however many ranks, layers and experts a run has or however far ahead some ranks
 * run. Whatever is dropped is reloaded from the table if it is touched again. A failed transaction clears
 * the memory.
 */
import type BetterSqlite3 from "better-sqlite3";
import type { RankLayerReport } from "../analysis/aggregateLayer";
import type { LayerReport, RankCoords } from "../analysis/types";
import {
  AGGREGATE_COLUMNS, AGGREGATE_CONFLICT, aggregateOrSkip, aggregateRow, conflictRejection, differingColumns, flushProgress, instanceUpsertArgs,
  instanceUpsertSql, LAYER_COLUMNS, LAYER_CONFLICT, LAYER_KEY, layerKeyText, layerRow, rankUpdateArgs, rankUpdateSql, runUpdateArgs, runUpdateSql, SCALAR_COLUMNS,
  SCALAR_CONFLICT, SCALAR_KEY, scalarKeyText, scalarRow, STEP_COLUMNS, STEP_CONFLICT, stepRow, type SqlValue,
} from "./flushRows";
import { layerReportFromRow, rankCoordsFromRows, rankCoordsSql, STORED_COLUMNS, type StoredLayerRow, type StoredRankRow } from "./layerReportRows";
import type { AggregateErrorHandler, PendingBatch, RefreshedAggregate } from "./pendingBatch";
import type { RunRecord } from "./runsRepo";

/** Steps per run kept in memory (complete layers leave early); older ones are reloaded from the table when touched. */
const MAX_CACHED_STEPS = 64;

/** Runs kept in memory; the least recently written one leaves first (it is reloaded if it writes again). */
const MAX_CACHED_RUNS = 32;

/**
 * Budget of the report memory in units of ~8 bytes: one per count held plus REPORT_OVERHEAD per report
 * (4 M units ~ 32 MB of counts; measured RSS with it is in README "Limits and overload").
 */
const MAX_CACHED_COST = 4_000_000;
const REPORT_OVERHEAD = 32;

function costOf(r: LayerReport): number {
  return REPORT_OVERHEAD + r.tokensPerExpert.length + (r.tokensPerExpertBeforeDrop?.length ?? 0) + (r.receivedPerLocalExpert?.length ?? 0);
}

/** A layer all of whose ranks reported: its reports left memory; touching it again reloads them. */
const EVICTED = null;

type RankReports = Map<number, LayerReport>;
type StepLayers = Map<number, RankReports | typeof EVICTED>;

interface RunMemory {
  coords: Map<number, RankCoords>;
  steps: Map<number, StepLayers>;
  /** Cost (see MAX_CACHED_COST) of the reports held per step. */
  stepCost: Map<number, number>;
}

function insertSql(table: string, columns: string[], conflict: string): string {
  return `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) ${conflict}`;
}

/** SqliteReportWriter owns the prepared statements and the report memory of one connection. */
export class SqliteReportWriter {
  private readonly memory = new Map<string, RunMemory>();
  /** Total cost of every report held in `memory`. */
  private held = 0;
  /** The file's data_version when memory was last known to match it. */
  private dataVersion: number | null = null;
  private readonly insertLayer: BetterSqlite3.Statement;
  private readonly insertStep: BetterSqlite3.Statement;
  private readonly insertScalar: BetterSqlite3.Statement;
  private readonly upsertAggregate: BetterSqlite3.Statement;
  private readonly selectStep: BetterSqlite3.Statement;
  private readonly selectLayer: BetterSqlite3.Statement;
  private readonly selectCoords: BetterSqlite3.Statement;
  private readonly updateRank: BetterSqlite3.Statement;
  private readonly updateRun: BetterSqlite3.Statement;
  private readonly upsertInstance: BetterSqlite3.Statement;
  private readonly storedLayer: BetterSqlite3.Statement;
  private readonly storedScalar: BetterSqlite3.Statement;

  private readonly maxCachedCost: number;

  /** `maxCachedCost` overrides MAX_CACHED_COST (tests use a small one). */
  constructor(private readonly conn: BetterSqlite3.Database, opts: { maxCachedCost?: number } = {}) {
    this.maxCachedCost = opts.maxCachedCost ?? MAX_CACHED_COST;
    this.insertLayer = conn.prepare(insertSql("LayerReport", LAYER_COLUMNS, LAYER_CONFLICT));
    this.insertStep = conn.prepare(insertSql("StepSample", STEP_COLUMNS, STEP_CONFLICT));
    this.insertScalar = conn.prepare(insertSql("RunScalar", SCALAR_COLUMNS, SCALAR_CONFLICT));
    this.upsertAggregate = conn.prepare(insertSql("LayerAggregate", AGGREGATE_COLUMNS, AGGREGATE_CONFLICT));
    this.selectStep = conn.prepare(`SELECT ${STORED_COLUMNS} FROM "LayerReport" WHERE "runId" = ? AND "step" = ?`).safeIntegers(false);
    this.selectLayer = conn
      .prepare(`SELECT ${STORED_COLUMNS} FROM "LayerReport" WHERE "runId" = ? AND "step" = ? AND "layer" = ?`)
      .safeIntegers(false);
    this.selectCoords = conn.prepare(rankCoordsSql("?")).safeIntegers(false);
    this.updateRank = conn.prepare(rankUpdateSql(() => "?"));
    this.updateRun = conn.prepare(runUpdateSql(() => "?"));
    this.upsertInstance = conn.prepare(instanceUpsertSql(() => "?"));
    // A row a resend did not insert is read back by its key and compared: a different one is a conflict.
    const byKey = (table: string, columns: string[], key: string[]) =>
      conn.prepare(`SELECT ${columns.map((c) => `"${c}"`).join(", ")} FROM "${table}" WHERE ${key.map((k) => `"${k}" = ?`).join(" AND ")}`);
    this.storedLayer = byKey("LayerReport", LAYER_COLUMNS, LAYER_KEY);
    this.storedScalar = byKey("RunScalar", SCALAR_COLUMNS, SCALAR_KEY);
  }

  /**
   * write makes the batches durable in one transaction and returns the aggregates it refreshed. It is
   * synchronous on purpose: nothing else on this connection can run in the middle of it.
   */
  write(batches: PendingBatch[], nowMs: number, onAggregateError?: AggregateErrorHandler): RefreshedAggregate[] {
    if (this.conn.inTransaction) {
      throw new Error("SqliteReportWriter.write called while a transaction is open on the connection");
    }
    try {
      return this.conn.transaction(() => this.writeInTransaction(batches, nowMs, onAggregateError)).immediate();
    } catch (err) {
      // Memory may hold rows that were rolled back; start again from the table.
      this.clearMemory();
      throw err;
    }
  }

  private writeInTransaction(batches: PendingBatch[], nowMs: number, onAggregateError?: AggregateErrorHandler): RefreshedAggregate[] {
    // Inside BEGIN IMMEDIATE: nobody else can commit until this transaction ends.
    // Number(): Prisma turns on safe integers for this connection, so SQLite integers come back as bigint.
    const version = Number(this.conn.pragma("data_version", { simple: true }));
    if (version !== this.dataVersion) {
      this.clearMemory(); // another connection committed since: memory may miss its rows
      this.dataVersion = version;
    }
    // (run, step, layer) with at least one newly stored report: only those aggregates can change.
    const touched = new Map<string, { run: RunRecord; step: number; layer: number }>();
    for (const b of batches) {
      const runId = b.run.id;
      b.conflicts = undefined;
      b.layers.forEach((r, i) => {
        const reports = this.reportsOf(runId, r.step, r.layer);
        const row = layerRow(runId, b.rank, r);
        if (this.insertLayer.run(...row).changes === 0) {
          // A resend: the stored (first) report stays, and so does the aggregate; a different one is refused.
          this.checkResend(b, `layers[${i}]`, this.storedLayer, [runId, r.step, r.layer, b.rank], LAYER_COLUMNS, row,
            layerKeyText(b.run.runKey, b.rank, r));
          return;
        }
        reports.set(b.rank, r);
        this.addCost(runId, r.step, costOf(r));
        const key = `${runId}\u0000${r.step}\u0000${r.layer}`;
        if (!touched.has(key)) touched.set(key, { run: b.run, step: r.step, layer: r.layer });
      });
      // A step sample's first write is kept silently: a job restarted from a checkpoint re-measures the steps it
      // repeats (time, memory), which is not a client bug.
      for (const s of b.steps) this.insertStep.run(...stepRow(runId, b.rank, s));
      (b.scalars ?? []).forEach((p, i) => {
        const row = scalarRow(runId, p);
        if (this.insertScalar.run(...row).changes === 0) {
          this.checkResend(b, `scalars[${i}]`, this.storedScalar, [runId, p.name, p.layer, p.step], SCALAR_COLUMNS, row,
            scalarKeyText(b.run.runKey, p));
        }
      });
    }
    const refreshed = this.refreshAggregates(touched.values(), onAggregateError);
    this.updateRanksAndRuns(batches, nowMs);
    for (const runId of new Set(batches.map((b) => b.run.id))) this.trim(runId);
    this.enforceBudget();
    return refreshed;
  }

  /** checkResend compares a record that was not inserted with the stored one; a difference is a conflict of its batch. */
  private checkResend(b: PendingBatch, field: string, select: BetterSqlite3.Statement, key: SqlValue[], columns: string[], row: SqlValue[], what: string): void {
    const stored = select.get(...key) as Record<string, unknown> | undefined;
    const differ = stored ? differingColumns(columns, stored, row) : [];
    if (differ.length > 0) (b.conflicts ??= []).push(conflictRejection(field, what, differ));
  }

  /** heldCost is the current size of the report memory in MAX_CACHED_COST units (for tests and metrics). */
  heldCost(): number {
    return this.held;
  }

  private clearMemory(): void {
    this.memory.clear();
    this.held = 0;
  }

  private addCost(runId: string, step: number, cost: number): void {
    const m = this.memory.get(runId);
    if (!m) return;
    m.stepCost.set(step, (m.stepCost.get(step) ?? 0) + cost);
    this.held += cost;
  }

  private dropStep(m: RunMemory, step: number): void {
    m.steps.delete(step);
    this.held -= m.stepCost.get(step) ?? 0;
    m.stepCost.delete(step);
  }

  /** enforceBudget drops the oldest steps of the least recently written runs until memory is under budget. */
  private enforceBudget(): void {
    for (const [runId, m] of this.memory) {
      if (this.held <= this.maxCachedCost) return;
      for (const step of [...m.steps.keys()].sort((x, y) => x - y)) {
        if (this.held <= this.maxCachedCost) break;
        this.dropStep(m, step);
      }
      if (m.steps.size === 0) this.memory.delete(runId);
    }
  }

  private runMemory(runId: string): RunMemory {
    let m = this.memory.get(runId);
    if (!m) {
      this.memory.set(runId, (m = { coords: this.loadCoords(runId), steps: new Map(), stepCost: new Map() }));
      // Map order is insertion order: trim() re-inserts the runs a flush wrote, so the first is the stalest.
      if (this.memory.size > MAX_CACHED_RUNS) {
        const [stalest, gone] = this.memory.entries().next().value!;
        for (const step of [...gone.steps.keys()]) this.dropStep(gone, step);
        this.memory.delete(stalest);
      }
    }
    return m;
  }

  /** reportsOf returns the stored reports of a (run, step, layer), loading them from the table if not in memory. */
  private reportsOf(runId: string, step: number, layer: number): RankReports {
    const m = this.runMemory(runId);
    let layers = m.steps.get(step);
    if (!layers) {
      layers = new Map();
      m.steps.set(step, layers);
      for (const row of this.selectStep.all(runId, step) as StoredLayerRow[]) {
        let reports = layers.get(Number(row.layer));
        if (!reports) layers.set(Number(row.layer), (reports = new Map()));
        const report = layerReportFromRow(step, row);
        reports.set(Number(row.rank), report);
        this.addCost(runId, step, costOf(report));
      }
    }
    let reports = layers.get(layer);
    if (reports === undefined) {
      layers.set(layer, (reports = new Map()));
    } else if (reports === EVICTED) {
      reports = new Map();
      for (const row of this.selectLayer.all(runId, step, layer) as StoredLayerRow[]) {
        const report = layerReportFromRow(step, row);
        reports.set(Number(row.rank), report);
        this.addCost(runId, step, costOf(report));
      }
      layers.set(layer, reports);
    }
    return reports;
  }

  private refreshAggregates(
    touched: Iterable<{ run: RunRecord; step: number; layer: number }>,
    onAggregateError?: AggregateErrorHandler,
  ): RefreshedAggregate[] {
    const refreshed: RefreshedAggregate[] = [];
    for (const { run, step, layer } of touched) {
      // Looked up again, not kept from the inserts: memory may have dropped and reloaded it in between
      // (many runs in one flush), and a reload inside this transaction reads this flush's rows too.
      const reports = this.reportsOf(run.id, step, layer);
      const m = this.runMemory(run.id);
      const list: RankLayerReport[] = [];
      for (const [rank, report] of reports) {
        let c = m.coords.get(rank);
        if (!c) {
          m.coords = this.loadCoords(run.id); // a rank registered after this run's memory was made
          c = m.coords.get(rank);
        }
        if (!c) continue; // cannot happen: a rank's hello is stored before its data
        list.push({ rank, coords: c, report });
      }
      const a = aggregateOrSkip(run, step, layer, list, onAggregateError);
      if (!a) continue;
      refreshed.push({ run, aggregate: a });
      this.upsertAggregate.run(...aggregateRow(run.id, a));
      // Every rank of the layer's pipeline stage reported: nothing more is expected, free the memory.
      if (reports.size >= run.worldSize / run.config.pipeline_model_parallel_size) {
        const layers = m.steps.get(step);
        if (layers) {
          let freed = 0;
          for (const r of reports.values()) freed += costOf(r);
          layers.set(layer, EVICTED);
          m.stepCost.set(step, (m.stepCost.get(step) ?? 0) - freed);
          this.held -= freed;
        }
      }
    }
    return refreshed;
  }

  private trim(runId: string): void {
    const m = this.memory.get(runId);
    if (!m) return;
    this.memory.delete(runId);
    this.memory.set(runId, m); // most recently written last
    const steps = m.steps;
    if (steps.size <= MAX_CACHED_STEPS) return;
    const sorted = [...steps.keys()].sort((x, y) => x - y);
    for (const step of sorted.slice(0, steps.size - MAX_CACHED_STEPS)) this.dropStep(m, step);
  }

  private loadCoords(runId: string): Map<number, RankCoords> {
    return rankCoordsFromRows(this.selectCoords.all(runId) as StoredRankRow[]);
  }

  private updateRanksAndRuns(batches: PendingBatch[], nowMs: number): void {
    const progress = flushProgress(batches);
    for (const r of progress.ranks) this.updateRank.run(...rankUpdateArgs(r, nowMs));
    for (const i of progress.instances) this.upsertInstance.run(...instanceUpsertArgs(i, nowMs));
    for (const r of progress.runs) this.updateRun.run(...runUpdateArgs(r, nowMs));
  }
}
