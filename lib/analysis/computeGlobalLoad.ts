/**
 * Global expert load of one MoE layer in one step: the sum of the counts of the ranks that route
 * distinct tokens (DESIGN.md "Global load").
 *
 * Every rank of the layer's pipeline stage runs the router on its own input. Across DP and CP ranks
 * the inputs are distinct. Across TP ranks they are distinct only with sequence parallelism (each TP
 * rank holds a 1/TP slice of the sequence); without it every TP rank holds the same tokens and routes
 * them identically, so only tp rank 0 is counted. Megatron (megatron/core/transformer/moe/moe_layer.py)
 * refuses to train MoE with TP > 1 and no SP, so the second rule only matters for old builds and imports.
 */
import { InvalidInput } from "./errors";
import { requireCounts } from "./requireInteger";
import type { RankCoords, RunConfig } from "./types";

/** GlobalLoadRule: which ranks were summed, as shown next to the numbers. */
export type GlobalLoadRule = "all-tp-ranks (sequence parallel)" | "tp-rank-0 only (no sequence parallel)" | "all ranks (TP=1)";

/** GlobalLoad: L[e] for one layer and step, the rule applied and how many ranks were summed. */
export interface GlobalLoad {
  load: number[];
  rule: GlobalLoadRule;
  ranksCounted: number;
}

/** globalLoadRule names the TP de-duplication rule that applies to a run. */
export function globalLoadRule(config: RunConfig): GlobalLoadRule {
  if (config.tensor_model_parallel_size <= 1) return "all ranks (TP=1)";
  return config.sequence_parallel ? "all-tp-ranks (sequence parallel)" : "tp-rank-0 only (no sequence parallel)";
}

/** tpDeduplicated tells whether a run's TP ranks route the same tokens (TP > 1 without sequence parallelism), so only tp rank 0 counts. */
export function tpDeduplicated(config: RunConfig): boolean {
  return globalLoadRule(config) === "tp-rank-0 only (no sequence parallel)";
}

/**
 * countsTowardGlobalLoad tells whether a rank's counts are summed into the global router load (and the layer's
 * tokens and drops): every rank of the stage, except the TP copies of tp rank 0 without sequence parallelism.
 * The received load is not filtered this way (computeEpLoad: every TP copy is dispatched).
 */
export function countsTowardGlobalLoad(config: RunConfig, coords: Pick<RankCoords, "tp">): boolean {
  return !tpDeduplicated(config) || coords.tp === 0;
}

/** computeGlobalLoad sums the per-rank tokens-per-expert counts of one layer and step into the global load, applying the TP de-duplication rule. */
export function computeGlobalLoad(
  reports: Array<{ coords: RankCoords; tokensPerExpert: number[] }>,
  config: RunConfig,
): GlobalLoad {
  const experts = config.num_experts;
  const rule = globalLoadRule(config);
  const load = Array.from({ length: experts }, () => 0);
  const seen = new Set<string>();
  let stage: number | undefined;
  let ranksCounted = 0;
  reports.forEach((r, i) => {
    requireCounts(r.tokensPerExpert, `reports[${i}].tokensPerExpert`, experts);
    // A layer lives on one pipeline stage; reports from two stages cannot be the same layer.
    if (stage === undefined) stage = r.coords.pp;
    else if (r.coords.pp !== stage) {
      throw new InvalidInput(`reports[${i}] is from pipeline stage ${r.coords.pp}, the others from stage ${stage}: one layer lives on one stage`, `reports[${i}].coords.pp`);
    }
    const key = `${r.coords.tp}/${r.coords.cp}/${r.coords.dp}`;
    // Summing a duplicate would silently double a rank's tokens.
    if (seen.has(key)) throw new InvalidInput(`two reports from the same rank (tp ${r.coords.tp}, cp ${r.coords.cp}, dp ${r.coords.dp})`, `reports[${i}].coords`);
    seen.add(key);
    if (!countsTowardGlobalLoad(config, r.coords)) return;
    r.tokensPerExpert.forEach((c, e) => (load[e] += c));
    ranksCounted++;
  });
  return { load, rule, ranksCounted };
}
