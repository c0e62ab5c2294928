/**
 * Plain JSON shapes the web app's data-access layer returns, the HTTP API serves and the UI renders.
 * Server components and route handlers get them from lib/server/queries.ts; client components get the
 * same shapes from /api/... . No Prisma types here.
 */
import type { LossName, MemorySample, RunConfig } from "./analysis/types";

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

/** LayerHeatmapDto: MoE layers x experts at one step, global load per expert (tokens). */
export interface LayerHeatmapDto {
  runId: string;
  step: number | null;
  numExperts: number;
  rows: Array<{ layer: number; load: number[]; ranksReported: number; ranksExpected: number }>;
}

/** ExpertHeatmapDto: experts x steps for one layer; each column is a bucket of steps (max load kept). */
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
  load: number[];
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
  /** Increases whenever anything of the run changed. */
  version: string;
}
