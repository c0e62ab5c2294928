/**
 * The unit the collector's write path hands around: one validated batch of one rank waiting to be made
 * durable, and what a flush reports back (aggregates refreshed, aggregates skipped).
 */
import type { LayerAggregate } from "../analysis/aggregateLayer";
import type { LayerReport, ScalarPoint, StepSample } from "../analysis/types";
import type { Rejection } from "../wire/validateBatch";
import type { RunRecord } from "./runsRepo";

/** PendingBatch: one validated batch of one rank, waiting to be made durable. */
export interface PendingBatch {
  run: RunRecord;
  rank: number;
  /** The sending client process (RankHello.client_instance); "" or unset: anonymous, no durability kept for it. */
  instance?: string;
  seq: number;
  layers: LayerReport[];
  steps: StepSample[];
  /** Named scalar series points (imports); optional so older callers need not send any. */
  scalars?: ScalarPoint[];
  droppedBatches: number;
  /**
   * Set by the write: records whose key was already stored with other values (conflicting rewrites), refused
   * with ALREADY_EXISTS. The batch's other records are stored.
   */
  conflicts?: Rejection[];
}

/** AggregateErrorHandler hears about an aggregate that could not be computed (it is skipped, not fatal). */
export type AggregateErrorHandler = (err: unknown, where: { runId: string; step: number; layer: number }) => void;

/** RefreshedAggregate: an aggregate this flush recomputed, for the alert evaluator. */
export interface RefreshedAggregate {
  run: RunRecord;
  aggregate: LayerAggregate;
}
