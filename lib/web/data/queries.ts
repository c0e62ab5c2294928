/**
 * The web app's data-access layer: plain DTOs for server components and route handlers. Every number
 * it returns was computed by the pure core (at ingest for aggregates, here for derived sizes).
 */
import type {
  CapacityWhatIfDto,
  EpLoadDto,
  ExpertHeatmapDto,
  ImbalanceHeatmapDto,
  ImbalanceMetric,
  LayerMetricsDto,
  StepMetricsDto,
  LayerAggregateDto,
  LayerHeatmapDto,
  LayerInfoDto,
  LiveUpdateDto,
  LossSeriesDto,
  RunDetailDto,
  RunEventDto,
  RunSummaryDto,
  ScalarSeriesDto,
  SeriesPointDto,
} from "../../dto";
import { loadBasis, type LoadBasis } from "../../analysis/aggregateLayer";
import { capacityWhatIf, type WhatIfReport } from "../../analysis/capacityWhatIf";
import { computeEpLoad } from "../../analysis/computeEpLoad";
import { countsTowardGlobalLoad, globalLoadRule } from "../../analysis/computeGlobalLoad";
import { computeLayerMetrics } from "../../analysis/computeLayerMetrics";
import { deriveParallelSizes } from "../../analysis/deriveParallelSizes";
import { summarizeAcrossLayers } from "../../analysis/summarizeAcrossLayers";
import { deriveRunStatus, REPORTING_WINDOW_MS } from "../../analysis/deriveRunStatus";
import { unpackCounts } from "../../store/packCounts";
import { layerReportFromRow } from "../../store/layerReportRows";
import { stageOfLayer } from "../../analysis/stageOfLayer";
import { LOSS_NAMES, type LayerReport, type LossName } from "../../analysis/types";
import type { RunEvent as RunEventRow } from "../../../generated/prisma/client";
import type { Db } from "../../store/db";
import { findRunById, listRanks, runFromRow, type RunRecord } from "../../store/runsRepo";
import { getDb } from "./webDb";
import { meanOf, meanOverLayers, type MetricColumn } from "../../store/bucketStats";
import { bucketSizeFor, groupedStepBuckets, readStepBuckets, storedStepRange } from "./stepBuckets";
import { cachedExpertHeatmapSqlite, DEFAULT_EXPERT_HEATMAP_COLUMNS, type ExpertHeatmapOptions } from "./expertHeatmapSqlite";

export { bucketSizeFor };

const LOSS_COLUMN: Record<LossName, string> = {
  load_balancing_loss: "loadBalancingLoss",
  seq_load_balancing_loss: "seqLoadBalancingLoss",
  global_load_balancing_loss: "globalLoadBalancingLoss",
  z_loss: "zLoss",
};

async function rankCounts(db: Db, nowMs: number, runId?: string): Promise<Map<string, { known: number; reporting: number }>> {
  const p = db.sql.param;
  const rows = (await db.prisma.$queryRawUnsafe(
    `SELECT "runId", COUNT(*) AS known, SUM(CASE WHEN "lastSeenMs" > ${p(1)} THEN 1 ELSE 0 END) AS reporting
       FROM "Rank" ${runId ? `WHERE "runId" = ${p(2)}` : ""} GROUP BY "runId"`,
    ...(runId ? [nowMs - REPORTING_WINDOW_MS, runId] : [nowMs - REPORTING_WINDOW_MS]),
  )) as Array<{ runId: string; known: number | bigint; reporting: number | bigint | null }>;
  return new Map(rows.map((r) => [r.runId, { known: Number(r.known), reporting: Number(r.reporting ?? 0) }]));
}

function summaryOf(run: RunRecord, counts: { known: number; reporting: number } | undefined, nowMs: number): RunSummaryDto {
  return {
    id: run.id,
    runKey: run.runKey,
    name: run.name,
    status: deriveRunStatus(run.status, run.lastSeenMs, nowMs),
    simulated: run.simulated,
    lastStep: run.lastStep,
    ranksReporting: counts?.reporting ?? 0,
    ranksKnown: counts?.known ?? 0,
    worldSize: run.worldSize,
    numExperts: run.numExperts,
    topk: run.topk,
    numLayers: run.numLayers,
    createdAt: run.createdAt.toISOString(),
    lastSeenAt: run.lastSeenMs === null ? null : new Date(run.lastSeenMs).toISOString(),
  };
}

function eventOf(e: RunEventRow): RunEventDto {
  return {
    id: e.id,
    kind: e.kind as RunEventDto["kind"],
    rank: e.rank,
    step: e.step,
    layer: e.layer,
    phase: e.phase,
    message: e.message,
    memory:
      e.peakAllocatedBytes === null
        ? null
        : {
            allocatedBytes: Number(e.allocatedBytes ?? 0),
            reservedBytes: Number(e.reservedBytes ?? 0),
            peakAllocatedBytes: Number(e.peakAllocatedBytes),
            numOoms: Number(e.numOoms ?? 0),
            numAllocRetries: Number(e.numAllocRetries ?? 0),
          },
    createdAt: e.createdAt.toISOString(),
  };
}


/** listRuns returns every run, newest first. */
export async function listRuns(nowMs: number = Date.now()): Promise<RunSummaryDto[]> {
  const db = await getDb();
  const rows = await db.prisma.run.findMany({ orderBy: { createdAt: "desc" } });
  const counts = await rankCounts(db, nowMs);
  return rows.map((r) => summaryOf(runFromRow(r), counts.get(r.id), nowMs));
}

/** getRun returns one run or null when the id is unknown. */
export async function getRun(runId: string, nowMs: number = Date.now()): Promise<RunDetailDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const counts = await rankCounts(db, nowMs, runId);
  const events = await db.prisma.runEvent.findMany({ where: { runId }, orderBy: [{ step: "asc" }, { createdAt: "asc" }] });
  const moe = new Set(run.moeLayers);
  const layers: LayerInfoDto[] = [];
  for (let layer = 1; layer <= run.numLayers; layer++) {
    layers.push({ layer, moe: moe.has(layer), stage: stageOfLayer(run.config, layer).pp });
  }
  const sizes = deriveParallelSizes(run.config, run.worldSize);
  return {
    ...summaryOf(run, counts.get(runId), nowMs),
    config: run.config,
    commandLine: run.commandLine,
    gpusPerNode: run.gpusPerNode,
    gpuMemoryBytes: run.gpuMemoryBytes,
    framework: run.framework,
    frameworkVersion: run.frameworkVersion,
    layers,
    moeLayers: run.moeLayers,
    derived: { dp: sizes.dp, edp: sizes.edp, etp: sizes.etp },
    events: events.map(eventOf),
  };
}

function stepRange(db: Db, runId: string, layer?: number): Promise<{ min: number; max: number } | null> {
  return storedStepRange(db, "LayerAggregate", runId, layer);
}

/** getLossSeries returns per-layer loss series, downsampled to at most `maxPoints` buckets (min/max kept). */
export async function getLossSeries(
  runId: string,
  opts: { layers?: number[]; fromStep?: number; toStep?: number; maxPoints?: number; losses?: readonly LossName[] } = {},
): Promise<LossSeriesDto | null> {
  // Each loss costs four aggregate columns per rollup row read: read only the ones asked for.
  const names = LOSS_NAMES.filter((n) => !opts.losses || opts.losses.includes(n));
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const range = await stepRange(db, runId);
  if (!range) {
    // No expert counts (an imported log or TensorBoard file): show the per-layer losses it carried.
    const imported = await getScalarSeries(runId, { names: [...names], maxPoints: opts.maxPoints });
    const series = (imported?.series ?? [])
      .filter((x) => x.layer > 0 && (!opts.layers?.length || opts.layers.includes(x.layer)))
      .map((x) => ({ layer: x.layer, loss: x.name as LossName, points: x.points }));
    const steps = series.flatMap((x) => x.points.map((pt) => pt.step));
    return {
      runId,
      fromStep: steps.length ? Math.min(...steps) : null,
      toStep: steps.length ? Math.max(...steps) : null,
      bucketSize: imported?.bucketSize ?? 1,
      series,
    };
  }
  const from = Math.max(opts.fromStep ?? range.min, range.min);
  const to = Math.min(opts.toStep ?? range.max, range.max);
  const bucket = bucketSizeFor(from, to, opts.maxPoints ?? 600);
  const layers = (opts.layers?.length ? opts.layers : run.moeLayers).filter((l) => run.moeLayers.includes(l));
  if (layers.length === 0 || from > to) return { runId, fromStep: from, toStep: to, bucketSize: bucket, series: [] };
  const buckets = await readStepBuckets(db, {
    runId, moeLayers: run.moeLayers, layers, fromStep: from, toStep: to, firstStoredStep: range.min, bucketSize: bucket,
    metrics: names.map((n) => LOSS_COLUMN[n] as MetricColumn),
  });
  const series = new Map<string, { layer: number; loss: LossName; points: SeriesPointDto[] }>();
  for (const bk of buckets) {
    for (const loss of names) {
      const stats = bk.metrics[LOSS_COLUMN[loss] as MetricColumn];
      const avg = meanOf(stats);
      if (avg === null || !stats) continue;
      const key = `${bk.layer}/${loss}`;
      let s = series.get(key);
      if (!s) series.set(key, (s = { layer: bk.layer, loss, points: [] }));
      s.points.push({ step: bk.firstStep, value: avg, min: stats.min!, max: stats.max! });
    }
  }
  return { runId, fromStep: from, toStep: to, bucketSize: bucket, series: [...series.values()] };
}

interface AggregateRow {
  layer: number;
  step: number;
  ranksReported: number;
  ranksExpected: number;
  tokens: bigint;
  load: Uint8Array;
  dispatchedLoad: Uint8Array | null;
  dropFraction: number | null;
  maxVio: number | null;
  loadBalancingLoss: number | null;
  seqLoadBalancingLoss: number | null;
  globalLoadBalancingLoss: number | null;
  zLoss: number | null;
}

/** The router load of a stored aggregate, the dispatched load beside it and which counts the router load holds. */
function loadsOf(a: AggregateRow, run: RunRecord): { load: number[]; dispatchedLoad: number[] | null; loadBasis: LoadBasis } {
  return {
    load: unpackCounts(a.load),
    dispatchedLoad: a.dispatchedLoad ? unpackCounts(a.dispatchedLoad) : null,
    loadBasis: loadBasis(a, run.config.moe_expert_capacity_factor),
  };
}

function aggregateOf(a: AggregateRow, run: RunRecord): LayerAggregateDto {
  const losses: LayerAggregateDto["losses"] = {};
  for (const n of LOSS_NAMES) {
    const v = a[LOSS_COLUMN[n] as keyof AggregateRow] as number | null;
    if (v !== null) losses[n] = v;
  }
  return {
    step: a.step,
    layer: a.layer,
    ranksReported: a.ranksReported,
    ranksExpected: a.ranksExpected,
    tokens: Number(a.tokens),
    ...loadsOf(a, run),
    maxVio: a.maxVio ?? 0,
    losses,
  };
}

/** latestStep is the newest step (of the last 16) for which every MoE layer is complete, else the newest step with data. */
export async function latestStep(db: Db, run: RunRecord): Promise<number | null> {
  const p = db.sql.param;
  const rows = (await db.prisma.$queryRawUnsafe(
    // Only the newest 16 steps are read (an index range), never the whole run's aggregates.
    `SELECT "step", COUNT(*) AS n, SUM(CASE WHEN "ranksReported" >= "ranksExpected" THEN 1 ELSE 0 END) AS complete
       FROM "LayerAggregate" WHERE "runId" = ${p(1)}
        AND "step" > (SELECT MAX("step") FROM "LayerAggregate" WHERE "runId" = ${p(2)}) - 16
      GROUP BY "step" ORDER BY "step" DESC`,
    run.id,
    run.id,
  )) as Array<{ step: number | bigint; n: number | bigint; complete: number | bigint }>;
  if (rows.length === 0) return null;
  const full = rows.find((r) => Number(r.complete) >= run.moeLayers.length);
  return Number((full ?? rows[0]).step);
}

/**
 * aggregatesAt returns every MoE layer's aggregate at one step, by layer. Without the layer list SQLite
 * picks the (runId, layer, step) primary key for "runId" alone and walks the whole run (seconds at 6.4 M
 * rows) instead of the (runId, step) index.
 */
async function aggregatesAt(db: Db, run: RunRecord, step: number) {
  // The layers are named: on SQLite's WITHOUT ROWID table this is one primary-key lookup per layer.
  const rows = await db.prisma.layerAggregate.findMany({ where: { runId: run.id, layer: { in: run.moeLayers }, step } });
  return rows.sort((a, b) => a.layer - b.layer);
}

/** getLayerHeatmap returns MoE layers x experts at `step` (latest complete step when omitted). */
export async function getLayerHeatmap(runId: string, step?: number): Promise<LayerHeatmapDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const at = step ?? (await latestStep(db, run));
  if (at === null) return { runId, step: null, numExperts: run.numExperts, rows: [] };
  const rows = await aggregatesAt(db, run, at);
  return {
    runId,
    step: at,
    numExperts: run.numExperts,
    rows: rows.map((r) => ({ layer: r.layer, ...loadsOf(r, run), ranksReported: r.ranksReported, ranksExpected: r.ranksExpected })),
  };
}

/**
 * getExpertHeatmap returns experts x steps for one layer, downsampled to at most `maxColumns` (max kept).
 * On SQLite it reads through better-sqlite3 prepared statements with a change-validated cache
 * (expertHeatmapSqlite.ts); PostgreSQL, and a range whose closed blocks are not rolled up yet, take the
 * generic bucketing path. The answer may be the cached object itself: callers must not modify it.
 */
export async function getExpertHeatmap(runId: string, layer: number, opts: ExpertHeatmapOptions = {}): Promise<ExpertHeatmapDto | null> {
  const db = await getDb();
  const conn = db.sqlite();
  if (conn) {
    const fast = await cachedExpertHeatmapSqlite(conn, runId, layer, opts);
    if (fast !== undefined) return fast;
  }
  return expertHeatmapGeneric(db, runId, layer, opts);
}

/** expertHeatmapGeneric is getExpertHeatmap through Prisma and readStepBuckets (any database; builds missing rollups). */
export async function expertHeatmapGeneric(db: Db, runId: string, layer: number, opts: ExpertHeatmapOptions = {}): Promise<ExpertHeatmapDto | null> {
  const run = await findRunById(db, runId);
  if (!run || !run.moeLayers.includes(layer)) return null;
  const range = await stepRange(db, runId, layer);
  if (!range) return { runId, layer, numExperts: run.numExperts, bucketSize: 1, columns: [] };
  const from = Math.max(opts.fromStep ?? range.min, range.min);
  const to = Math.min(opts.toStep ?? range.max, range.max);
  const bucket = bucketSizeFor(from, to, opts.maxColumns ?? DEFAULT_EXPERT_HEATMAP_COLUMNS);
  // Each expert's maximum in the bucket, so a spike is never averaged away (stored rollups hold the max too).
  const buckets = await readStepBuckets(db, {
    runId, moeLayers: run.moeLayers, layers: [layer], fromStep: from, toStep: to, firstStoredStep: range.min, bucketSize: bucket, metrics: [], loads: true,
  });
  const columns: ExpertHeatmapDto["columns"] = buckets.map((bk) => ({ step: bk.firstStep, load: bk.loadMax ?? [] }));
  return { runId, layer, numExperts: run.numExperts, bucketSize: bucket, columns };
}

/** getAggregates returns every MoE layer's aggregate at one step. */
export async function getAggregates(runId: string, step: number): Promise<LayerAggregateDto[] | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const rows = await aggregatesAt(db, run, step);
  return rows.map((r) => aggregateOf(r, run));
}

/** getEvents returns a run's OOM, crash and finish events. */
export async function getEvents(runId: string): Promise<RunEventDto[] | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const events = await db.prisma.runEvent.findMany({ where: { runId }, orderBy: [{ step: "asc" }, { createdAt: "asc" }] });
  return events.map(eventOf);
}

/** getLiveState returns the small state the live stream compares to detect changes. */
export async function getLiveState(runId: string, nowMs: number = Date.now()): Promise<LiveUpdateDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const counts = (await rankCounts(db, nowMs, runId)).get(runId);
  const events = await db.prisma.runEvent.count({ where: { runId } });
  const alertsFiring = await db.prisma.alert.count({ where: { runId, status: "firing" } });
  const status = deriveRunStatus(run.status, run.lastSeenMs, nowMs);
  return {
    runId,
    lastStep: run.lastStep,
    status,
    ranksReporting: counts?.reporting ?? 0,
    events,
    alertsFiring,
    version: `${run.version}:${events}:${alertsFiring}:${status}`,
  };
}

/** getGlobalVersion changes whenever any run changes (new data, new run, new event). */
export async function getGlobalVersion(): Promise<string> {
  const db = await getDb();
  const rows = (await db.prisma.$queryRawUnsafe(
    `SELECT COUNT(*) AS n, COALESCE(SUM("version"), 0) AS v,
            (SELECT COUNT(*) FROM "Alert" WHERE "status" = 'firing') AS a FROM "Run"`,
  )) as Array<{ n: number | bigint; v: number | bigint; a: number | bigint }>;
  return `${Number(rows[0]?.n ?? 0)}:${Number(rows[0]?.v ?? 0)}:${Number(rows[0]?.a ?? 0)}`;
}

const IMBALANCE_COLUMN: Record<ImbalanceMetric, MetricColumn> = {
  maxVio: "maxVio",
  cv: "cv",
  entropy: "entropy",
  epImbalance: "epImbalance",
};

/** getImbalanceHeatmap returns MoE layers x step buckets of one metric (worst value per bucket kept). */
export async function getImbalanceHeatmap(
  runId: string,
  metric: ImbalanceMetric,
  opts: { fromStep?: number; toStep?: number; maxColumns?: number } = {},
): Promise<ImbalanceHeatmapDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  // Low entropy is the bad direction, so its bucket keeps the minimum.
  const reduce = metric === "entropy" ? "min" : "max";
  const range = await stepRange(db, runId);
  const empty: ImbalanceHeatmapDto = { runId, metric, reduce, bucketSize: 1, layers: run.moeLayers, steps: [], values: run.moeLayers.map(() => []), summary: [] };
  if (!range) return empty;
  const from = Math.max(opts.fromStep ?? range.min, range.min);
  const to = Math.min(opts.toStep ?? range.max, range.max);
  if (from > to) return empty;
  const bucket = bucketSizeFor(from, to, opts.maxColumns ?? 300);
  const col = IMBALANCE_COLUMN[metric];
  const rows = await readStepBuckets(db, {
    runId, moeLayers: run.moeLayers, fromStep: from, toStep: to, firstStoredStep: range.min, bucketSize: bucket, metrics: [col],
  });
  const layerIndex = new Map(run.moeLayers.map((l, i) => [l, i]));
  const bucketIndex = new Map<number, number>();
  for (const b of [...new Set(rows.map((r) => r.bucket))].sort((x, y) => x - y)) bucketIndex.set(b, bucketIndex.size);
  const steps = [...bucketIndex.keys()].map((b) => Math.max(from, b * bucket));
  const values = run.moeLayers.map(() => Array<number | null>(steps.length).fill(null));
  for (const r of rows) {
    const li = layerIndex.get(r.layer);
    const v = r.metrics[col]?.[reduce];
    if (li === undefined || v === null || v === undefined) continue;
    values[li][bucketIndex.get(r.bucket)!] = v;
  }
  const summary = steps.map((step, si) => {
    const column = values.map((v) => v[si]).filter((v): v is number => v !== null);
    const s = summarizeAcrossLayers(column);
    return { step, min: s.min, median: s.median, p90: s.p90, max: s.max };
  });
  return { runId, metric, reduce, bucketSize: bucket, layers: run.moeLayers, steps, values, summary };
}

/** getStepMetrics returns every MoE layer's metrics at `step` (latest complete step when omitted). */
export async function getStepMetrics(runId: string, step?: number): Promise<StepMetricsDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const at = step ?? (await latestStep(db, run));
  if (at === null) return { runId, step: null, layers: [], summary: { maxVio: summarizeAcrossLayers([]) } };
  const rows = await aggregatesAt(db, run, at);
  const rule = globalLoadRule(run.config);
  const layers: LayerMetricsDto[] = rows.map((r) => {
    const loads = loadsOf(r, run);
    const m = computeLayerMetrics(loads.load);
    const d = loads.dispatchedLoad ? computeLayerMetrics(loads.dispatchedLoad) : null;
    return {
      layer: r.layer,
      ranksReported: r.ranksReported,
      ranksExpected: r.ranksExpected,
      rule,
      loadBasis: loads.loadBasis,
      total: m.total,
      maxVio: m.maxVio,
      cv: m.cv,
      normalizedEntropy: m.normalizedEntropy,
      deadExperts: m.deadExperts,
      hottest: m.hottest,
      coldest: m.coldest,
      dispatched: d && { total: d.total, maxVio: d.maxVio, cv: d.cv, normalizedEntropy: d.normalizedEntropy, deadExperts: d.deadExperts },
      dropFraction: r.dropFraction,
      epImbalance: r.epImbalance,
    };
  });
  const vio = summarizeAcrossLayers(layers.map((l) => l.maxVio).filter((v): v is number => v !== null));
  return { runId, step: at, layers, summary: { maxVio: { min: vio.min, median: vio.median, p90: vio.p90, max: vio.max } } };
}

/** layerReportsAt reads the reports of one step (one layer, or all), each through the one stored-row mapper. */
async function layerReportsAt(db: Db, runId: string, step: number, layer?: number): Promise<Array<{ rank: number; report: LayerReport }>> {
  const rows = await db.prisma.layerReport.findMany({ where: { runId, step, ...(layer === undefined ? {} : { layer }) } });
  return rows.map((r) => ({ rank: r.rank, report: layerReportFromRow(r.step, r) }));
}

/** getEpLoad returns tokens received per EP rank in each dispatch group for one layer at one step. */
export async function getEpLoad(runId: string, step: number, layer: number): Promise<EpLoadDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run || !run.moeLayers.includes(layer)) return null;
  const ranks = new Map((await listRanks(db, runId)).map((r) => [r.rank, r.coords]));
  const reports = (await layerReportsAt(db, runId, step, layer)).flatMap(({ rank, report }) => {
    const coords = ranks.get(rank);
    return coords ? [{ rank, coords, ...report }] : [];
  });
  const ep = computeEpLoad(reports, run.config);
  // Without counts before dropping the demand is the dispatched load again: say nothing rather than repeat it.
  const withDemand = reports.some((r) => r.tokensPerExpertBeforeDrop);
  const sizes = deriveParallelSizes(run.config, run.worldSize);
  return {
    runId,
    step,
    layer,
    ep: sizes.ep,
    etp: sizes.etp,
    expertsPerEpRank: run.numExperts / sizes.ep,
    groups: ep.groups.map((g) => ({
      edp: g.edp, pp: g.pp, received: g.received, demand: withDemand ? g.demand : null, demandRatio: withDemand ? g.demandRatio : null,
      mean: g.mean, ratio: g.ratio, ranksReported: g.ranksReported, ranksExpected: g.ranksExpected,
    })),
    worst: ep.worst,
    epImbalance: ep.epImbalance,
    demandImbalance: withDemand ? ep.demandImbalance : null,
    mismatches: ep.mismatches,
  };
}

/** getCapacityWhatIf predicts per-layer drops at `capacityFactor` on the counts observed at `step`. */
export async function getCapacityWhatIf(runId: string, capacityFactor: number, step?: number): Promise<CapacityWhatIfDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const at = step ?? (await latestStep(db, run));
  const configured = run.config.moe_expert_capacity_factor ?? null;
  if (at === null) return { runId, step: null, capacityFactor, configuredCapacityFactor: configured, layers: [] };
  const ranks = new Map((await listRanks(db, runId)).map((r) => [r.rank, r.coords]));
  const byLayer = new Map<number, WhatIfReport[]>();
  for (const { rank, report } of await layerReportsAt(db, runId, at)) {
    // Without sequence parallelism the TP ranks route the same tokens: count them once.
    const coords = ranks.get(rank);
    if (!coords || !countsTowardGlobalLoad(run.config, coords)) continue;
    let list = byLayer.get(report.layer);
    if (!list) byLayer.set(report.layer, (list = []));
    list.push({ rank, ...report });
  }
  const layers = [...byLayer.entries()]
    .sort(([a], [b]) => a - b)
    .map(([layer, reports]) => {
      const { capacityFactor: _cf, ...w } = capacityWhatIf(reports, run.topk, capacityFactor);
      return { layer, ...w };
    });
  return { runId, step: at, capacityFactor, configuredCapacityFactor: configured, layers };
}

/**
 * getScalarSeries returns a run's named series (layer 0 = run-level), downsampled to at most `maxPoints` buckets.
 * Besides the stored ones (imports), a run with expert counts gets the run-level loss series Megatron logs per
 * step (`load_balancing_loss`, `z_loss`, ...: the mean over the MoE layers that reported), computed from the
 * per-(step, layer) aggregates, under the same names as an imported log's, so a live run and the log of the
 * same job line up in the same chart. A stored series of the same name (what Megatron itself logged) wins.
 */
export async function getScalarSeries(
  runId: string,
  opts: { names?: string[]; maxPoints?: number } = {},
): Promise<ScalarSeriesDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const names = opts.names ?? [];
  const stored = await storedStepRange(db, "RunScalar", runId);
  const live = run.moeLayers.length > 0 ? await stepRange(db, runId) : null;
  if (!stored && !live) return { runId, bucketSize: 1, series: [] };
  const from = Math.min(stored?.min ?? Infinity, live?.min ?? Infinity);
  const to = Math.max(stored?.max ?? -Infinity, live?.max ?? -Infinity);
  const bucket = bucketSizeFor(from, to, opts.maxPoints ?? 600);
  const series = new Map<string, { name: string; layer: number; points: SeriesPointDto[] }>();
  if (stored) {
    const rows = await groupedStepBuckets(db, {
      table: "RunScalar", keys: ["name", "layer"], values: ["value"], runId, fromStep: stored.min, toStep: stored.max, bucketSize: bucket,
      where: (ph) => (names.length ? ` AND "name" IN (${names.map((n) => ph(n)).join(", ")})` : ""),
    });
    rows.sort((x, y) => String(x.name).localeCompare(String(y.name)) || Number(x.layer) - Number(y.layer) || Number(x.b) - Number(y.b));
    for (const r of rows) {
      const key = `${String(r.name)}\u0000${Number(r.layer)}`;
      let s = series.get(key);
      if (!s) series.set(key, (s = { name: String(r.name), layer: Number(r.layer), points: [] }));
      s.points.push({ step: Number(r.firstStep), value: Number(r.valueSum) / Number(r.valueN), min: Number(r.valueMin), max: Number(r.valueMax) });
    }
  }
  const liveNames = LOSS_NAMES.filter((n) => (names.length === 0 || names.includes(n)) && !series.has(`${n}\u0000${0}`));
  if (live && liveNames.length > 0) {
    const buckets = await readStepBuckets(db, {
      runId, moeLayers: run.moeLayers, fromStep: live.min, toStep: live.max, firstStoredStep: live.min, bucketSize: bucket,
      metrics: liveNames.map((n) => LOSS_COLUMN[n] as MetricColumn),
    });
    for (const n of liveNames) {
      const points = meanOverLayers(buckets, LOSS_COLUMN[n] as MetricColumn);
      if (points.length > 0) series.set(`${n}\u0000${0}`, { name: n, layer: 0, points });
    }
  }
  const out = [...series.values()].sort((a, b) => a.name.localeCompare(b.name) || a.layer - b.layer);
  return { runId, bucketSize: bucket, series: out };
}
