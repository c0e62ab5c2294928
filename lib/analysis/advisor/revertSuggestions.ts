/**
 * Going back to the faster layout once the router has settled: the seed says its early-training
 * remedies "can be removed after the token distribution is more stable". Offered only when
 * classifyHistory finds the whole stable window balanced AND a temporary mitigation is in force:
 * - a layout mitigation: ETP > 1 set explicitly with fewer EP ranks than the same EP x ETP group could
 *   hold (an ETP that merely defaults to TP is the user's attention layout, not a mitigation). The
 *   revert keeps EP x ETP (so EDP, the dispatch groups and expert weights per rank are unchanged) and
 *   moves to the smallest ETP whose EP still divides the experts and passes validation;
 * - a capacity factor (revert to dropless);
 * - MoE recomputation (new or deprecated spelling).
 * Each revert carries today's counts replayed under the reverted setting, so the user sees whether the
 * faster layout would still be balanced and fit in memory.
 */
import { computeEpLoad, type EpLoad } from "../computeEpLoad";
import { rankCoordinates } from "../rankCoordinates";
import type { RankCoords, RunConfig } from "../types";
import { buildSuggestion } from "./buildSuggestion";
import type { AdvisorContext } from "./createAdvisorContext";
import { layoutTitle } from "./etpEpSuggestions";
import { memorySentence } from "./memorySentence";
import { formatAdvice as f } from "./formatAdvice";
import { epLoadUnderLayout, maxReceived, meshSizes, summarizeEpLoads } from "./predictEpLoad";
import { expertActivationScale, predictPeakMemory, receivedOfRanks } from "./predictPeakMemory";
import type { Suggestion } from "./types";
import { recomputesMoe, validateSuggestion } from "./validateSuggestion";

/** MitigationsInForce: which temporary mitigations a configuration uses; layout holds the revert target when one exists. */
export interface MitigationsInForce {
  layout: { ep: number; etp: number } | null;
  capacity: boolean;
  recompute: boolean;
}

/** revertLayout returns the EP-over-ETP layout with the same EP x ETP group that the run could use, or null when ETP was not raised as a mitigation. */
export function revertLayout(config: RunConfig, cluster: { worldSize: number; gpusPerNode?: number }): { ep: number; etp: number } | null {
  const etp = config.expert_tensor_parallel_size;
  if (etp === undefined || etp <= 1) return null;
  const group = config.expert_model_parallel_size * etp;
  for (let candidate = 1; candidate < etp; candidate++) {
    if (group % candidate !== 0) continue;
    const ep = group / candidate;
    if (config.num_experts % ep !== 0) continue;
    const after = { ...config, expert_model_parallel_size: ep, expert_tensor_parallel_size: candidate };
    if (!validateSuggestion(after, cluster).some((v) => v.severity === "error")) return { ep, etp: candidate };
  }
  return null;
}

/** mitigationsInForce lists the temporary mitigations a configuration uses. */
export function mitigationsInForce(config: RunConfig, cluster: { worldSize: number; gpusPerNode?: number }): MitigationsInForce {
  const cf = config.moe_expert_capacity_factor;
  return { layout: revertLayout(config, cluster), capacity: cf !== undefined && cf >= 0, recompute: recomputesMoe(config) };
}

/** revertSuggestions proposes undoing each temporary mitigation in force once the history has been balanced for the whole stable window. */
export function revertSuggestions(ctx: AdvisorContext, inForce: MitigationsInForce): Suggestion[] {
  const { config, opts } = ctx;
  const stableText = `Balanced for the last ${opts.stableWindowSteps} steps (every sampled step below EP imbalance ${opts.stableEpImbalance} and MaxVio ${opts.stableMaxVio}); the seed's early-training mitigations are temporary.`;
  const pressure = opts.memoryPressureFraction * ctx.input.gpuMemoryBytes;
  const out: Suggestion[] = [];
  const peakScore = (after: number | null) => (after !== null && after > pressure ? -40 : 0);

  if (inForce.layout) {
    const { ep, etp } = inForce.layout;
    const ep0 = ctx.sizes.ep;
    const etp0 = ctx.sizes.etp;
    const etpDefault = etp === config.tensor_model_parallel_size;
    const configAfter: RunConfig = { ...config, expert_model_parallel_size: ep, expert_tensor_parallel_size: etpDefault ? undefined : etp };
    const loadsAfter = epLoadUnderLayout(ctx.input.layers, configAfter, ctx.world);
    const summary = summarizeEpLoads(loadsAfter);
    const sizesAfter = meshSizes(configAfter, ctx.world);
    const coordsAfter = new Map<number, RankCoords>();
    for (const rank of ctx.coordsNow.keys()) coordsAfter.set(rank, rankCoordinates(rank, sizesAfter));
    const scale = expertActivationScale(config, etp0, etp);
    const peaks = predictPeakMemory(ctx.memoryModel, ctx.latest, ctx.receivedNow, receivedOfRanks(loadsAfter, coordsAfter), scale.scale);
    const after = peaks.ranksPredicted > 0 ? (peaks.worstAfter?.bytes ?? null) : null;
    const stillBalanced = summary.worstRatio === null || summary.worstRatio < opts.stableEpImbalance;
    out.push(
      buildSuggestion(ctx, {
        id: `revert:etp${etp}-ep${ep}`,
        kind: "revert",
        title: `Back to ${layoutTitle(ep0, ep, etp0, etp)}`,
        configAfter,
        // Megatron's ETP default is TP, so the flag can go when the target equals it.
        set: [
          ["--expert-model-parallel-size", String(ep)],
          ["--expert-tensor-parallel-size", etpDefault ? null : String(etp)],
        ],
        rationale: [
          stableText,
          `EP over ETP is faster (the seed: fewer collectives, wider expert GEMMs). Today's counts under EP ${ep} put the worst EP rank at ${f.times(summary.worstRatio)} its group's mean${stillBalanced ? "" : `, above ${opts.stableEpImbalance}: the revert would bring the imbalance back`}.`,
          memorySentence(ctx, peaks.worstBefore?.bytes ?? null, after, peaks.ranksPredicted),
        ].join(" "),
        cost: `the expert load is no longer spread over ${etp0} ETP ranks: if imbalance returns, EP ranks absorb it alone`,
        numbers: {
          epAfter: ep,
          etpAfter: etp,
          worstRatioBefore: ctx.epNow.worstRatio,
          worstRatioAfter: summary.worstRatio,
          worstReceivedBefore: ctx.epNow.worstReceived,
          worstReceivedAfter: summary.worstReceived,
          predictedPeakBytesBefore: peaks.worstBefore?.bytes ?? null,
          predictedPeakBytesAfter: after,
        },
        score: 50 + (stillBalanced ? 0 : -30) + peakScore(after),
      }),
    );
  }

  if (inForce.capacity) {
    const cf = config.moe_expert_capacity_factor as number;
    let dropped = 0;
    let assignments = 0;
    let beforeDropKnown = true;
    const loads: Array<{ layer: number; load: EpLoad }> = ctx.input.layers.map(({ layer, reports }) => ({
      layer,
      load: computeEpLoad(
        reports.map((r) => {
          const before = r.tokensPerExpertBeforeDrop?.length ? r.tokensPerExpertBeforeDrop : undefined;
          if (!before) beforeDropKnown = false;
          const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
          dropped += before ? Math.max(0, sum(before) - sum(r.tokensPerExpert)) : 0;
          assignments += r.tokens * config.moe_router_topk;
          return { rank: r.rank, coords: r.coords, tokensPerExpert: before ?? r.tokensPerExpert };
        }),
        config,
      ),
    }));
    const maxBefore = maxReceived(ctx.loadsNow);
    const maxAfter = maxReceived(loads);
    const peaks = predictPeakMemory(ctx.memoryModel, ctx.latest, ctx.receivedNow, receivedOfRanks(loads, ctx.coordsNow));
    const after = peaks.ranksPredicted > 0 ? (peaks.worstAfter?.bytes ?? null) : null;
    const configAfter: RunConfig = { ...config, moe_expert_capacity_factor: undefined, moe_pad_expert_input_to_capacity: undefined, moe_token_drop_policy: undefined };
    out.push(
      buildSuggestion(ctx, {
        id: "revert:dropless",
        kind: "revert",
        title: `Back to dropless (remove capacity factor ${cf})`,
        configAfter,
        set: [
          ["--moe-expert-capacity-factor", null],
          ["--moe-pad-expert-input-to-capacity", null],
          ["--moe-token-drop-policy", null],
        ],
        rationale: [
          stableText,
          beforeDropKnown
            ? `Today the factor drops ${f.percent(assignments > 0 ? dropped / assignments : 0)} of assignments; dropless keeps them all.`
            : "Counts before dropping were not reported, so today's drops are unknown.",
          `The most tokens any EP rank receives in one layer: ${f.count(maxBefore)} -> ${f.count(maxAfter)} without the cap.`,
          memorySentence(ctx, peaks.worstBefore?.bytes ?? null, after, peaks.ranksPredicted),
        ].join(" "),
        cost: "expert memory follows routing again: a new imbalance is no longer capped",
        numbers: {
          capacityFactorBefore: cf,
          dropFractionBefore: beforeDropKnown && assignments > 0 ? dropped / assignments : null,
          maxReceivedBefore: maxBefore,
          maxReceivedAfter: maxAfter,
          predictedPeakBytesBefore: peaks.worstBefore?.bytes ?? null,
          predictedPeakBytesAfter: after,
        },
        score: 40 + peakScore(after),
      }),
    );
  }

  if (inForce.recompute) {
    const modules = config.recompute_granularity === "selective" ? (config.recompute_modules ?? ["core_attn"]) : [];
    const remaining = modules.filter((m) => m !== "moe");
    const configAfter: RunConfig = { ...config, moe_layer_recompute: undefined };
    const set: Array<[string, string | null]> = [["--moe-layer-recompute", null]];
    if (remaining.length > 0) {
      configAfter.recompute_modules = remaining;
      set.push(["--recompute-modules", remaining.join(" ")]);
    } else {
      configAfter.recompute_granularity = undefined;
      configAfter.recompute_modules = undefined;
      set.push(["--recompute-granularity", null], ["--recompute-modules", null]);
    }
    const afterReceived = new Map<number, number>();
    for (const [rank, received] of ctx.receivedNow) {
      const layers = ctx.layersPerStage.get(ctx.coordsNow.get(rank)?.pp ?? -1) ?? 0;
      if (layers > 0) afterReceived.set(rank, received * layers);
    }
    const peaks = predictPeakMemory(ctx.memoryModel, ctx.latest, ctx.receivedNow, afterReceived);
    const after = peaks.ranksPredicted > 0 ? (peaks.worstAfter?.bytes ?? null) : null;
    out.push(
      buildSuggestion(ctx, {
        id: "revert:recompute",
        kind: "revert",
        title: "Stop recomputing the MoE layer",
        configAfter,
        set,
        rationale: [
          stableText,
          "Saves one MoE forward (and its all-to-all) per layer and step.",
          memorySentence(ctx, peaks.worstBefore?.bytes ?? null, after, peaks.ranksPredicted),
          "Estimate: the inverse of the recomputation estimate (all of a stage's MoE activations kept instead of one layer's).",
        ].join(" "),
        cost: "MoE activations are kept again: memory grows with the tokens each rank receives",
        numbers: { predictedPeakBytesBefore: peaks.worstBefore?.bytes ?? null, predictedPeakBytesAfter: after, recomputeModulesAfter: remaining.join(" ") },
        score: 30 + peakScore(after),
      }),
    );
  }
  return out;
}
