/**
 * The one mapper from a stored LayerReport row back to the report it was written from, and the one from a
 * Rank row to its coordinates. Every reader of those rows (the writers' reloads, queries, advice,
 * post-mortem, export, dump) goes through them.
 */
import type { LayerReport, RankCoords } from "../analysis/types";
import { unpackCounts } from "./packCounts";

/** StoredLayerRow: the LayerReport columns an aggregate needs, as either driver returns them. */
export interface StoredLayerRow {
  layer: number | bigint;
  rank: number | bigint;
  microBatches: number | bigint;
  tokens: number | bigint;
  counts: Uint8Array;
  countsBeforeDrop: Uint8Array | null;
  received: Uint8Array | null;
  dropped: number | bigint | null;
  loadBalancingLoss: number | null;
  seqLoadBalancingLoss: number | null;
  globalLoadBalancingLoss: number | null;
  zLoss: number | null;
}

/** STORED_COLUMNS: the LayerReport columns layerReportFromRow reads, quoted for SQL (both write paths' re-reads). */
export const STORED_COLUMNS = `"layer", "rank", "microBatches", "tokens", "counts", "countsBeforeDrop", "received", "dropped", "loadBalancingLoss",
  "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss"`;

/** layerReportFromRow turns a stored LayerReport row back into the report it was written from. */
export function layerReportFromRow(step: number, row: StoredLayerRow): LayerReport {
  const losses: LayerReport["losses"] = {};
  if (row.loadBalancingLoss !== null) losses.load_balancing_loss = row.loadBalancingLoss;
  if (row.seqLoadBalancingLoss !== null) losses.seq_load_balancing_loss = row.seqLoadBalancingLoss;
  if (row.globalLoadBalancingLoss !== null) losses.global_load_balancing_loss = row.globalLoadBalancingLoss;
  if (row.zLoss !== null) losses.z_loss = row.zLoss;
  return {
    step,
    layer: Number(row.layer),
    microBatches: Number(row.microBatches),
    tokens: Number(row.tokens),
    tokensPerExpert: unpackCounts(row.counts),
    // The router metrics need what the router chose (aggregateLayer); a stored row must give them back.
    ...(row.countsBeforeDrop ? { tokensPerExpertBeforeDrop: unpackCounts(row.countsBeforeDrop) } : {}),
    ...(row.received ? { receivedPerLocalExpert: unpackCounts(row.received) } : {}),
    ...(row.dropped === null ? {} : { dropped: Number(row.dropped) }),
    losses,
  };
}

/** rankCoordsSql selects a run's ranks with their coordinates; `param` is the dialect's placeholder for the run id. */
export function rankCoordsSql(param: string): string {
  return `SELECT "rank", "tp", "cp", "dp", "pp", "vpp", "ep", "etp", "edp" FROM "Rank" WHERE "runId" = ${param}`;
}

/** StoredRankRow: a Rank row's coordinate columns, as either driver (or Prisma) returns them. */
export type StoredRankRow = { rank: number | bigint; vpp?: number | bigint | null } & Record<"tp" | "cp" | "dp" | "pp" | "ep" | "etp" | "edp", number | bigint>;

/** coordsFromRow turns a stored Rank row into the rank's coordinates. */
export function coordsFromRow(r: StoredRankRow): RankCoords {
  return {
    tp: Number(r.tp), cp: Number(r.cp), dp: Number(r.dp), pp: Number(r.pp),
    ...(r.vpp === null || r.vpp === undefined ? {} : { vpp: Number(r.vpp) }),
    ep: Number(r.ep), etp: Number(r.etp), edp: Number(r.edp),
  };
}

/** rankCoordsFromRows maps the rows of rankCoordsSql to rank -> coordinates. */
export function rankCoordsFromRows(rows: StoredRankRow[]): Map<number, RankCoords> {
  return new Map(rows.map((r) => [Number(r.rank), coordsFromRow(r)]));
}
