/**
 * The one mapper from a stored LayerReport row back to the report it was written from. Every reader of
 * LayerReport rows (the writers' reloads, queries, advice, post-mortem, export, dump) goes through it.
 */
import type { LayerReport } from "../analysis/types";
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
