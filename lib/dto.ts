/**
 * Plain JSON shapes the web app's data-access layer returns, the HTTP API serves and the UI renders.
 * Server components and route handlers get them from lib/web/data/queries.ts; client components get the
 * same shapes from /api/... . No Prisma types here.
 */
import type { LossName, MemorySample, RunConfig } from "./analysis/types";
import type { CapacityWhatIf } from "./analysis/capacityWhatIf";
import type { LoadBasis } from "./analysis/aggregateLayer";

/** RunStatus: running (reporting recently), stale (silent for a while), finished, crashed or oom. */
export type RunStatus = "running" | "stale" | "finished" | "crashed" | "oom";

/** RunSummaryDto: one line of the runs list. */
export interface RunSummaryDto {
  id: string;
  runKey: string;
  name: string;
  status: RunStatus;
  simulated: boolean;
  /** Highest step any rank reported, or null before the first report. */
  lastStep: number | null;
  /** Ranks that sent data within the last 30 s. */
  ranksReporting: number;
  /** Ranks that said hello at least once. */
  ranksKnown: number;
  worldSize: number;
  numExperts: number;
  topk: number;
  numLayers: number;
  createdAt: string;
  lastSeenAt: string | null;
}

/** LayerInfoDto: a transformer layer, whether it is MoE, and which pipeline stage holds it. */
export interface LayerInfoDto {
  layer: number;
  moe: boolean;
  stage: number;
}

/** RunEventDto: an OOM, crash or finish event. */
export interface RunEventDto {
  id: string;
  kind: "oom" | "crash" | "finished";
  rank: number;
  step: number;
  layer: number | null;
  phase: string | null;
  message: string;
  memory: MemorySample | null;
  createdAt: string;
}

/** RunDetailDto: everything the run page header and config panel show. */
export interface RunDetailDto extends RunSummaryDto {
  config: RunConfig;
  commandLine: string[];
  gpusPerNode: number;
  gpuMemoryBytes: number;
  framework: string;
  frameworkVersion: string;
  layers: LayerInfoDto[];
  moeLayers: number[];
  /** Sizes Megatron derives from the configuration and world size. */
  derived: { dp: number; edp: number; etp: number };
  events: RunEventDto[];
}

/** SeriesPointDto: one (possibly downsampled) point; min/max keep spikes visible inside a bucket. */
export interface SeriesPointDto {
  step: number;
  value: number;
  min: number;
  max: number;
}

/** LayerLossSeriesDto: one loss of one MoE layer over steps (mean over the ranks that reported it). */
export interface LayerLossSeriesDto {
  layer: number;
  loss: LossName;
  points: SeriesPointDto[];
}

/** LossSeriesDto: the answer of /api/runs/{id}/losses. */
export interface LossSeriesDto {
  runId: string;
  fromStep: number | null;
  toStep: number | null;
  /** Steps per bucket after server-side downsampling (1 = raw). */
  bucketSize: number;
  series: LayerLossSeriesDto[];
}

/**
 * LayerHeatmapDto: MoE layers x experts at one step, global router load per expert (tokens: counts before
 * capacity dropping where ranks sent them); `dispatchedLoad` is the post-drop load where it differs.
 */
export interface LayerHeatmapDto {
  runId: string;
  step: number | null;
  numExperts: number;
  rows: Array<{ layer: number; load: number[]; dispatchedLoad: number[] | null; loadBasis: LoadBasis; ranksReported: number; ranksExpected: number }>;
}

/** ExpertHeatmapDto: experts x steps for one layer; each column is a bucket of steps (max router load kept: counts before capacity dropping where sent). */
export interface ExpertHeatmapDto {
  runId: string;
  layer: number;
  numExperts: number;
  bucketSize: number;
  columns: Array<{ step: number; load: number[] }>;
}

/** LayerAggregateDto: the aggregate of one (step, layer) across ranks. */
export interface LayerAggregateDto {
  step: number;
  layer: number;
  ranksReported: number;
  ranksExpected: number;
  tokens: number;
  /** Router load: counts before capacity dropping where ranks sent them (see loadBasis). */
  load: number[];
  /** Dispatched (post-drop) load, only where it differs from `load`. */
  dispatchedLoad: number[] | null;
  loadBasis: LoadBasis;
  /** MaxVio of the router load. */
  maxVio: number;
  losses: Partial<Record<LossName, number>>;
}

/** LiveUpdateDto: what the live stream pushes when a run changes. */
export interface LiveUpdateDto {
  runId: string;
  lastStep: number | null;
  status: RunStatus;
  ranksReporting: number;
  events: number;
  /** Alerts of this run firing now. */
  alertsFiring: number;
  /** Increases whenever anything of the run changed. */
  version: string;
}

/** ImbalanceMetric: a per-(step, layer) imbalance number the layer x step heatmap can show. */
export type ImbalanceMetric = "maxVio" | "cv" | "entropy" | "epImbalance";

/** ImbalanceHeatmapDto: MoE layers x step buckets of one imbalance metric, plus a cross-layer summary per bucket. */
export interface ImbalanceHeatmapDto {
  runId: string;
  metric: ImbalanceMetric;
  /** How a bucket of steps is reduced: the worst value ("max" for maxVio/cv/epImbalance, "min" for entropy). */
  reduce: "max" | "min";
  bucketSize: number;
  layers: number[];
  steps: number[];
  /** values[layerIndex][stepIndex]; null where the layer has no aggregate in the bucket. */
  values: Array<Array<number | null>>;
  /** Across layers per bucket: min, median, p90 (linear interpolation), max. */
  summary: Array<{ step: number; min: number | null; median: number | null; p90: number | null; max: number | null }>;
}

/** LayerMetricsDto: one MoE layer's imbalance at one step (computed by the pure core from the global load). */
export interface LayerMetricsDto {
  layer: number;
  ranksReported: number;
  ranksExpected: number;
  /** Which de-duplication rule produced the global load. */
  rule: string;
  /** Which counts the router metrics below use (DESIGN.md "Which counts"). */
  loadBasis: LoadBasis;
  total: number;
  maxVio: number | null;
  cv: number | null;
  normalizedEntropy: number | null;
  deadExperts: number[];
  hottest: Array<{ expert: number; load: number; utilization: number }>;
  coldest: Array<{ expert: number; load: number; utilization: number }>;
  /** The same metrics on the dispatched (post-drop) load, only where it differs from the router load. */
  dispatched: {
    total: number;
    maxVio: number | null;
    cv: number | null;
    normalizedEntropy: number | null;
    deadExperts: number[];
  } | null;
  /** Dropped assignments / (tokens x topk); null when no rank sent a dropped count. */
  dropFraction: number | null;
  /** Worst EP rank's received (post-drop) tokens over its group's mean. */
  epImbalance: number | null;
}

/** StepMetricsDto: every MoE layer's metrics at one step and their summary across layers. */
export interface StepMetricsDto {
  runId: string;
  step: number | null;
  layers: LayerMetricsDto[];
  summary: { maxVio: { min: number | null; median: number | null; p90: number | null; max: number | null } };
}

/**
 * EpLoadDto: tokens per EP rank in every dispatch group, for one layer at one step: `received` is what the
 * EP rank actually received (after capacity dropping; what its memory follows), `demand` what the router
 * sent toward it before dropping (null when no rank sent counts before dropping: then nothing was dropped,
 * or the client could not say). Every TP source counts.
 */
export interface EpLoadDto {
  runId: string;
  step: number;
  layer: number;
  ep: number;
  etp: number;
  expertsPerEpRank: number;
  groups: Array<{
    edp: number; pp: number; received: number[]; demand: number[] | null; demandRatio: number | null;
    mean: number; ratio: number | null; ranksReported: number; ranksExpected: number;
  }>;
  worst: { edp: number; pp: number; epRank: number; received: number; mean: number; ratio: number } | null;
  /** Worst received / group mean (post-drop). */
  epImbalance: number | null;
  /** Worst demand / group mean (pre-drop). */
  demandImbalance: number | null;
  mismatches: Array<{ rank: number; epRank: number; derived: number; reported: number }>;
}

/** CapacityWhatIfDto: predicted drops per MoE layer at one capacity factor, on the observed counts of one step. */
export interface CapacityWhatIfDto {
  runId: string;
  step: number | null;
  capacityFactor: number;
  /** The capacity factor the run was launched with, if any. */
  configuredCapacityFactor: number | null;
  /** The core's capacityWhatIf per layer (its capacityFactor is the request's), with C and drops per source rank. */
  layers: Array<{ layer: number } & Omit<CapacityWhatIf, "capacityFactor">>;
}

/** AlertDto: one alert episode (firing or resolved). Times are ISO strings. */
export interface AlertDto {
  id: string;
  runId: string;
  runName: string;
  ruleId: string;
  scope: string;
  layer: number | null;
  rank: number | null;
  severity: "warning" | "critical";
  status: "firing" | "resolved";
  threshold: number;
  /** The value and step that fired it, the worst seen, and the latest. */
  value: number;
  step: number;
  peakValue: number;
  peakStep: number;
  lastValue: number | null;
  lastStep: number | null;
  labels: Record<string, string | number>;
  message: string;
  startedAt: string;
  firedAt: string;
  resolvedAt: string | null;
}

/** AlertDeliveryDto: one webhook attempt. */
export interface AlertDeliveryDto {
  event: string;
  url: string;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  at: string;
}

/** AlertRulesDto: the shipped defaults, the stored overrides and the result, for one scope (global or a run). */
export interface AlertRulesDto {
  runId: string | null;
  defaults: Record<string, unknown>;
  overrides: Record<string, unknown>;
  effective: Record<string, unknown>;
}

/** OomPostMortemDto: why one rank ran out of memory, from the last `window` steps before its OOM event. */
export interface OomPostMortemDto {
  runId: string;
  runName: string;
  event: RunEventDto;
  /** The dying rank and its ETP x EP dispatch group; coords null when the rank never said hello. */
  rank: {
    rank: number;
    coords: { tp: number; cp: number; dp: number; pp: number; ep: number; etp: number; edp: number } | null;
    epRank: number | null;
    /** Group index pp * EDP + edp, and its coordinates. */
    group: { index: number; edp: number; pp: number } | null;
    /** Global experts [start, end) hosted by its EP rank. */
    experts: [number, number] | null;
  };
  sizes: { ep: number; etp: number; edp: number; numExperts: number; expertsPerEpRank: number };
  gpuMemoryBytes: number;
  window: { from: number; to: number; size: number };
  /** MoE layers of the dying rank's pipeline stage. */
  layers: number[];
  /** Per MoE layer of the stage and step: tokens received by every EP rank of the group (index = EP rank). */
  received: Array<{
    layer: number;
    points: Array<{ step: number; byEpRank: number[]; mine: number; mean: number; ratio: number | null; complete: boolean }>;
  }>;
  /** The dying rank's memory samples; the OOM event's own sample is added at the OOM step when no step sample exists. */
  memory: Array<{ step: number; allocatedBytes: number; reservedBytes: number; peakAllocatedBytes: number; numAllocRetries: number; source: "sample" | "oom-event" }>;
  /** Peak allocated bytes of every rank of the group per step, for comparison. */
  groupMemory: Array<{ rank: number; epRank: number; etpRank: number; points: Array<{ step: number; peakAllocatedBytes: number }> }>;
  /** One row per rank of the group: its load over the window and its memory. */
  group: Array<{
    rank: number;
    epRank: number;
    etpRank: number;
    dying: boolean;
    /** Received tokens and received / group mean at the dying rank's worst (layer, step). */
    receivedAtWorst: number | null;
    ratioAtWorst: number | null;
    /** Highest received / group mean over the window (any layer of the stage). */
    maxRatio: number | null;
    meanRatio: number | null;
    lastPeakBytes: number | null;
    maxPeakBytes: number | null;
  }>;
  /** The run's alerts that overlapped the window, marked relevant when on the rank, its stage's layers or the run. */
  alerts: Array<AlertDto & { endStep: number | null; relevant: boolean }>;
  explanation: {
    text: string;
    findings: import("./analysis/postmortem/explainOom").OomFindings;
  };
}

/** CompareSeriesDto: one metric of one MoE layer of one run, downsampled (min/max kept); x is a step or cumulative tokens. */
export interface CompareSeriesDto {
  layer: number;
  metric: "auxLoss" | "maxVio" | "epImbalance";
  points: Array<{ x: number; step: number; value: number; min: number; max: number }>;
}

/** CompareRunDto: one run of a comparison. */
export interface CompareRunDto extends Pick<RunSummaryDto, "id" | "runKey" | "name" | "status" | "simulated" | "lastStep"> {
  moeLayers: number[];
  /** Which loss the aux-loss series shows (the run's load-balancing type). */
  auxLoss: LossName;
  bucketSize: number;
  series: CompareSeriesDto[];
}

/** CompareDto: the answer of /api/compare: per-run series aligned by step or tokens, and the config diff. */
export interface CompareDto {
  alignBy: "step" | "tokens";
  /** The layer compared, or null for "worst layer per bucket" (max over MoE layers; min for nothing). */
  layer: number | null;
  runs: CompareRunDto[];
  /** Every configuration field of any run, with the value per run (null when unset) and whether they differ. */
  config: Array<{ name: string; group: string; values: Array<string | null>; differs: boolean }>;
  /** Unknown run ids asked for. */
  missing: string[];
}

/** ScalarSeriesDto: named series of a run (imported logs, TensorBoard), downsampled like the loss series. */
export interface ScalarSeriesDto {
  runId: string;
  bucketSize: number;
  series: Array<{ name: string; layer: number; points: SeriesPointDto[] }>;
}

/** ProjectInfo: a project that owns runs and ingest tokens. */
export interface ProjectInfo {
  id: string;
  name: string;
  createdAtMs: number;
}

/** IngestTokenInfo: what may be shown about a token (never the secret). */
export interface IngestTokenInfo {
  id: string;
  projectId: string;
  projectName: string;
  name: string;
  prefix: string;
  createdAtMs: number;
  createdBy: string;
  lastUsedMs: number | null;
  revokedAtMs: number | null;
}
