/**
 * The rows a flush writes, as column lists and value arrays, shared by both write paths (better-sqlite3
 * on SQLite, Prisma raw on PostgreSQL) so the two can never disagree on a column or its order.
 */
import { aggregateLayer, type LayerAggregate, type RankLayerReport } from "../analysis/aggregateLayer";
import { packCounts } from "./packCounts";
import type { LayerReport, ScalarPoint, StepSample } from "../analysis/types";
import type { Rejection } from "../wire/validateBatch";
import type { AggregateErrorHandler, PendingBatch } from "./pendingBatch";
import type { RunRecord } from "./runsRepo";

/** SqlValue: what a bound parameter may be on both drivers. */
export type SqlValue = string | number | Uint8Array | null;

export const LAYER_COLUMNS = [
  "runId", "step", "layer", "rank", "microBatches", "tokens", "counts", "countsBeforeDrop", "received", "dropped",
  "loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss",
];

/** LAYER_KEY: LayerReport's primary key, by which a resend that inserted nothing is read back. */
export const LAYER_KEY = ["runId", "step", "layer", "rank"];

/** layerKeyText names a layer report's key in a conflict's reason. */
export function layerKeyText(runKey: string, rank: number, r: Pick<LayerReport, "step" | "layer">): string {
  return `run ${runKey}, step ${r.step}, layer ${r.layer}, rank ${rank}`;
}

/** A resend after a reconnect carries rows that are already stored: the first write wins. */
export const LAYER_CONFLICT = `ON CONFLICT ("runId", "step", "layer", "rank") DO NOTHING`;

/** layerRow: one LayerReport row in LAYER_COLUMNS order. */
export function layerRow(runId: string, rank: number, r: LayerReport): SqlValue[] {
  return [
    runId, r.step, r.layer, rank, r.microBatches, r.tokens,
    packCounts(r.tokensPerExpert),
    r.tokensPerExpertBeforeDrop?.length ? packCounts(r.tokensPerExpertBeforeDrop) : null,
    r.receivedPerLocalExpert?.length ? packCounts(r.receivedPerLocalExpert) : null,
    r.dropped ?? null,
    r.losses.load_balancing_loss ?? null,
    r.losses.seq_load_balancing_loss ?? null,
    r.losses.global_load_balancing_loss ?? null,
    r.losses.z_loss ?? null,
  ];
}

export const STEP_COLUMNS = [
  "runId", "rank", "step", "iterationTimeMs", "lmLoss", "allocatedBytes", "reservedBytes", "peakAllocatedBytes",
  "numOoms", "numAllocRetries", "wallTimeMs",
];

export const STEP_CONFLICT = `ON CONFLICT ("runId", "rank", "step") DO NOTHING`;

/** stepRow: one StepSample row in STEP_COLUMNS order. */
export function stepRow(runId: string, rank: number, s: StepSample): SqlValue[] {
  const m = s.memory;
  return [
    runId, rank, s.step, s.iterationTimeMs ?? null, s.lmLoss ?? null,
    m?.allocatedBytes ?? null, m?.reservedBytes ?? null, m?.peakAllocatedBytes ?? null,
    m?.numOoms ?? null, m?.numAllocRetries ?? null, s.wallTimeMs ?? null,
  ];
}

export const SCALAR_COLUMNS = ["runId", "name", "layer", "step", "value"];
export const SCALAR_CONFLICT = `ON CONFLICT ("runId", "name", "layer", "step") DO NOTHING`;

/** SCALAR_KEY: RunScalar's primary key. */
export const SCALAR_KEY = ["runId", "name", "layer", "step"];

/** scalarKeyText names a series point's key in a conflict's reason. */
export function scalarKeyText(runKey: string, p: ScalarPoint): string {
  return `run ${runKey}, series "${p.name}", layer ${p.layer}, step ${p.step}`;
}

/** scalarRow: one RunScalar row in SCALAR_COLUMNS order. */
export function scalarRow(runId: string, p: ScalarPoint): SqlValue[] {
  return [runId, p.name, p.layer, p.step, p.value];
}

export const AGGREGATE_COLUMNS = [
  "runId", "layer", "step", "ranksReported", "ranksExpected", "tokens", "load", "dispatchedLoad", "maxVio", "cv", "entropy",
  "deadExperts", "epImbalance", "epWorstEdp", "epWorstRank", "receivedMismatches", "dropFraction",
  "loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss",
];

/** aggregateRow: one LayerAggregate row in AGGREGATE_COLUMNS order. */
export function aggregateRow(runId: string, a: LayerAggregate): SqlValue[] {
  return [
    runId, a.layer, a.step, a.ranksReported, a.ranksExpected, a.tokens, packCounts(a.load),
    a.dispatchedLoad ? packCounts(a.dispatchedLoad) : null, a.maxVio, a.cv, a.entropy,
    a.deadExperts, a.epImbalance, a.epWorst?.edp ?? null, a.epWorst?.epRank ?? null, a.receivedMismatches, a.dropFraction,
    a.losses.load_balancing_loss ?? null, a.losses.seq_load_balancing_loss ?? null,
    a.losses.global_load_balancing_loss ?? null, a.losses.z_loss ?? null,
  ];
}

/** The upsert clause that lets a refreshed aggregate replace the stored one. */
export const AGGREGATE_CONFLICT = `ON CONFLICT ("runId", "layer", "step") DO UPDATE SET ${AGGREGATE_COLUMNS.slice(3)
  .map((c) => `"${c}" = excluded."${c}"`)
  .join(", ")}`;

/**
 * FlushProgress: per (run, rank) the highest durable seq and dropped batches; per (run, rank, client instance)
 * the highest durable seq of that client process; per run the highest step (-1: none).
 */
export interface FlushProgress {
  ranks: Array<{ runId: string; rank: number; seq: number; dropped: number }>;
  instances: Array<{ runId: string; rank: number; instance: string; seq: number }>;
  runs: Array<{ runId: string; top: number }>;
}

/** flushProgress sums up what a flush advances on the Rank and Run rows. */
export function flushProgress(batches: PendingBatch[]): FlushProgress {
  const ranks = new Map<string, { runId: string; rank: number; seq: number; dropped: number }>();
  const instances = new Map<string, FlushProgress["instances"][number]>();
  const runs = new Map<string, number>();
  for (const b of batches) {
    if (b.instance) {
      const key = `${b.run.id}\u0000${b.rank}\u0000${b.instance}`;
      const i = instances.get(key);
      if (i) i.seq = Math.max(i.seq, b.seq);
      else instances.set(key, { runId: b.run.id, rank: b.rank, instance: b.instance, seq: b.seq });
    }
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
  return { ranks: [...ranks.values()], instances: [...instances.values()], runs: [...runs].map(([runId, top]) => ({ runId, top })) };
}

/** The RankInstance upsert of a flush: an instance's durable seq only moves forward. */
export function instanceUpsertSql(p: (i: number) => string): string {
  return `INSERT INTO "RankInstance" ("runId", "rank", "instance", "durableSeq", "firstSeenMs", "lastSeenMs")
          VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)})
          ON CONFLICT ("runId", "rank", "instance") DO UPDATE SET
            "durableSeq" = CASE WHEN "RankInstance"."durableSeq" < excluded."durableSeq" THEN excluded."durableSeq" ELSE "RankInstance"."durableSeq" END,
            "lastSeenMs" = excluded."lastSeenMs"`;
}

/** instanceUpsertArgs: the parameters of instanceUpsertSql. */
export function instanceUpsertArgs(i: FlushProgress["instances"][number], nowMs: number): SqlValue[] {
  return [i.runId, i.rank, i.instance, i.seq, nowMs, nowMs];
}

/**
 * differingColumns lists the columns whose stored value differs from the one a resend carries (empty: the
 * same record, a harmless resend). Integers may come back as bigint, blobs as Buffer: compared by value.
 */
export function differingColumns(columns: readonly string[], stored: Record<string, unknown>, sent: readonly SqlValue[]): string[] {
  const out: string[] = [];
  columns.forEach((c, i) => {
    if (!sameValue(stored[c], sent[i])) out.push(c);
  });
  return out;
}

function sameValue(a: unknown, b: SqlValue): boolean {
  if (a === null || a === undefined || b === null) return (a ?? null) === b;
  if (b instanceof Uint8Array) return a instanceof Uint8Array && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
  if (typeof b === "number") return (typeof a === "number" || typeof a === "bigint") && Number(a) === b;
  return a === b;
}

/** conflictRejection: the ALREADY_EXISTS rejection of a record whose key is stored with other values. */
export function conflictRejection(field: string, key: string, columns: string[]): Rejection {
  return {
    code: "ALREADY_EXISTS",
    field,
    reason: `conflicts with the stored report (${key}): ${columns.join(", ")} differ; the first write is kept, a resend must carry the same values`,
  };
}

/** The Rank update of a flush, with `p(i)` the dialect's i-th placeholder. */
export function rankUpdateSql(p: (i: number) => string): string {
  return `UPDATE "Rank" SET "durableSeq" = CASE WHEN "durableSeq" < ${p(1)} THEN ${p(2)} ELSE "durableSeq" END,
              "droppedBatches" = "droppedBatches" + ${p(3)}, "lastSeenMs" = ${p(4)}
        WHERE "runId" = ${p(5)} AND "rank" = ${p(6)}`;
}

/** rankUpdateArgs: the parameters of rankUpdateSql. */
export function rankUpdateArgs(r: FlushProgress["ranks"][number], nowMs: number): SqlValue[] {
  return [r.seq, r.seq, r.dropped, nowMs, r.runId, r.rank];
}

/** The Run update of a flush (lastStep only moves forward; version bumps so pages refresh). */
export function runUpdateSql(p: (i: number) => string): string {
  return `UPDATE "Run" SET "lastStep" = CASE WHEN ${p(1)} < 0 THEN "lastStep"
                                          WHEN "lastStep" IS NULL OR "lastStep" < ${p(2)} THEN ${p(3)} ELSE "lastStep" END,
              "lastSeenMs" = ${p(4)}, "version" = "version" + 1
        WHERE "id" = ${p(5)}`;
}

/** runUpdateArgs: the parameters of runUpdateSql. */
export function runUpdateArgs(r: FlushProgress["runs"][number], nowMs: number): SqlValue[] {
  return [r.top, r.top, r.top, nowMs, r.runId];
}

/**
 * aggregateOrSkip aggregates one (step, layer) for either write path. Stored reports are already validated;
 * an analysis error must never block the flush (and with it every ack), so it is reported and the aggregate
 * skipped (null): it is recomputed when the next report of this layer arrives.
 */
export function aggregateOrSkip(
  run: RunRecord,
  step: number,
  layer: number,
  reports: RankLayerReport[],
  onAggregateError?: AggregateErrorHandler,
): LayerAggregate | null {
  try {
    return aggregateLayer(step, layer, reports, run.config, run.worldSize);
  } catch (err) {
    onAggregateError?.(err, { runId: run.id, step, layer });
    return null;
  }
}
