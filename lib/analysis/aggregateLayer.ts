/**
 * The per-(step, layer) aggregate across ranks that the collector stores and the dashboard shows:
 * global expert load (with Megatron's TP de-duplication rule), its imbalance metrics and the mean of
 * the loss values the ranks logged.
 *
 * Which counts (DESIGN.md "Which counts"): Megatron's routing_map is taken after capacity dropping
 * (megatron/core/transformer/moe/router.py applies `apply_router_token_dropping` before returning it), so
 * `tokensPerExpert` is what a rank dispatched. Dropping caps every expert at its capacity, which would make
 * a collapsed router look balanced, so the router metrics (load, MaxVio, CV, entropy, dead experts) use the
 * counts before dropping where a rank sent them. The dispatched global load is kept beside them only when
 * it differs; without a capacity factor the two are the same counts and `dispatchedLoad` is null.
 */
import { computeEpLoad } from "./computeEpLoad";
import { computeGlobalLoad, countsTowardGlobalLoad, tpDeduplicated } from "./computeGlobalLoad";
import { computeLayerMetrics } from "./computeLayerMetrics";
import { LOSS_NAMES, type LayerReport, type LossValues, type RankCoords, type RunConfig } from "./types";

/** RankLayerReport: a layer report with the coordinates of the rank that sent it. */
export interface RankLayerReport {
  rank: number;
  coords: RankCoords;
  report: LayerReport;
}

/** LayerAggregate: one (step, layer) across ranks. */
export interface LayerAggregate {
  step: number;
  layer: number;
  /** Ranks whose counts were summed into `load`. */
  ranksReported: number;
  /** Ranks whose counts will be summed once all have reported; less reported means partial. */
  ranksExpected: number;
  /** Which de-duplication rule produced `load` (DESIGN.md "Global load"). */
  rule: string;
  tokens: number;
  /** The router's global load: counts before capacity dropping where sent, else the dispatched counts. */
  load: number[];
  /** The dispatched (post-drop) global load, only when it differs from `load`; null otherwise. */
  dispatchedLoad: number[] | null;
  maxVio: number | null;
  cv: number | null;
  entropy: number | null;
  deadExperts: number;
  /** Worst EP rank's received (post-drop) tokens over its dispatch group's mean (DESIGN.md "EP-rank load"). */
  epImbalance: number | null;
  /** Where the worst EP rank is: its dispatch group (edp) and EP rank. */
  epWorst: { edp: number; epRank: number } | null;
  /** Ranks whose reported received counts disagree with the counts derived from the senders. */
  receivedMismatches: number;
  /** Dropped assignments / (tokens x topk) over the counting ranks that sent a dropped count; null if none did. */
  dropFraction: number | null;
  /** Mean over the reporting ranks of each loss they sent. */
  losses: LossValues;
}

/**
 * LoadBasis: which counts a stored router load was computed from, as the API and UI say it.
 * - "before-drop": ranks sent their counts before capacity dropping and dropping changed them; the
 *   dispatched load is stored beside.
 * - "no-drop": nothing was dropped (no capacity factor, or none at this step): router = dispatched.
 * - "dispatched-only": a capacity factor dropped assignments but the counts before dropping were not
 *   sent, so the router metrics come from capped counts and understate the router's imbalance.
 */
export type LoadBasis = "before-drop" | "no-drop" | "dispatched-only";

/** loadBasis tells which counts an aggregate's `load` holds, from its dispatched load, drop fraction and the run's capacity factor. */
export function loadBasis(
  a: { dispatchedLoad: unknown; dropFraction: number | null },
  capacityFactor: number | undefined,
): LoadBasis {
  if (a.dispatchedLoad) return "before-drop";
  if (capacityFactor === undefined || a.dropFraction === 0) return "no-drop";
  return "dispatched-only";
}

/** expectedCountingRanks is how many ranks of one pipeline stage route distinct tokens for a layer. */
export function expectedCountingRanks(config: RunConfig, worldSize: number): number {
  const perStage = worldSize / config.pipeline_model_parallel_size;
  // Without sequence parallelism the TP ranks of a group route the same tokens: only tp rank 0 counts.
  return tpDeduplicated(config) ? perStage / config.tensor_model_parallel_size : perStage;
}

/** routerCounts is what the router chose for one rank's report: its counts before capacity dropping when sent, else its dispatched counts. */
export function routerCounts(report: LayerReport): number[] {
  return report.tokensPerExpertBeforeDrop?.length ? report.tokensPerExpertBeforeDrop : report.tokensPerExpert;
}

/** aggregateLayer combines the reports of one (step, layer) from any number of ranks. */
export function aggregateLayer(
  step: number,
  layer: number,
  reports: RankLayerReport[],
  config: RunConfig,
  worldSize: number,
): LayerAggregate {
  const global = computeGlobalLoad(
    reports.map((r) => ({ coords: r.coords, tokensPerExpert: routerCounts(r.report) })),
    config,
  );
  const metrics = computeLayerMetrics(global.load);
  const dispatched = reports.some((r) => r.report.tokensPerExpertBeforeDrop?.length)
    ? computeGlobalLoad(reports.map((r) => ({ coords: r.coords, tokensPerExpert: r.report.tokensPerExpert })), config).load
    : null;
  const ep = computeEpLoad(
    reports.map((r) => ({
      rank: r.rank,
      coords: r.coords,
      tokensPerExpert: r.report.tokensPerExpert,
      ...(r.report.tokensPerExpertBeforeDrop?.length ? { tokensPerExpertBeforeDrop: r.report.tokensPerExpertBeforeDrop } : {}),
      ...(r.report.receivedPerLocalExpert ? { receivedPerLocalExpert: r.report.receivedPerLocalExpert } : {}),
    })),
    config,
  );
  const counting = reports.filter((r) => countsTowardGlobalLoad(config, r.coords));
  const tokens = counting.reduce((sum, r) => sum + r.report.tokens, 0);
  let dropped = 0;
  let assignments = 0;
  for (const r of counting) {
    if (r.report.dropped === undefined) continue;
    dropped += r.report.dropped;
    assignments += r.report.tokens * config.moe_router_topk;
  }
  const losses: LossValues = {};
  for (const name of LOSS_NAMES) {
    let sum = 0;
    let n = 0;
    for (const r of reports) {
      const v = r.report.losses[name];
      if (v !== undefined) {
        sum += v;
        n++;
      }
    }
    if (n > 0) losses[name] = sum / n;
  }
  return {
    step,
    layer,
    ranksReported: global.ranksCounted,
    ranksExpected: expectedCountingRanks(config, worldSize),
    rule: global.rule,
    tokens,
    load: global.load,
    dispatchedLoad: dispatched && dispatched.some((c, e) => c !== global.load[e]) ? dispatched : null,
    maxVio: metrics.maxVio,
    cv: metrics.cv,
    entropy: metrics.normalizedEntropy,
    deadExperts: metrics.deadExperts.length,
    epImbalance: ep.epImbalance,
    epWorst: ep.worst ? { edp: ep.worst.edp, epRank: ep.worst.epRank } : null,
    receivedMismatches: ep.mismatches.length,
    dropFraction: assignments > 0 ? dropped / assignments : null,
    losses,
  };
}
