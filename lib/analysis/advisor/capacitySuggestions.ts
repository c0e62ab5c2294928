/**
 * "Set a capacity factor near 1.0" (the seed's second remedy), made concrete with Megatron's real flag
 * `--moe-expert-capacity-factor` (the seed's `--moe-token-capacity-factor` does not exist): for each
 * candidate factor, the drops it would have caused on today's counts (capacityWhatIf: Megatron's
 * per-source-rank capacity C = ceil(((T_local x k) / E) x cf), per micro-batch), the smallest factor
 * that drops nothing, and the EP load once every source rank's counts are clipped at its capacity.
 *
 * Megatron only accepts a capacity factor with load-balancing types aux_loss, seq_aux_loss,
 * global_aux_loss or none. For a run on sinkhorn we add `--moe-router-load-balancing-type aux_loss`
 * (with `--moe-aux-loss-coeff 0.01`, Megatron's recommended start, when no coefficient is set, since
 * aux_loss with coefficient 0 balances nothing) and say so: the suggestion stays valid, but it changes
 * how the router is trained, so it ranks below the same factor on a run that needs no such change.
 *
 * Drop policy: both policies drop the same number of assignments (see dropsAtCapacity); the run's
 * policy is kept and written out explicitly. Padding to capacity is offered once, for the best factor,
 * because it trades compute for a fixed, predictable expert input size.
 *
 * Ranking: up to +20 for the cut in the most tokens any EP rank receives, +40 when the memory model
 * puts the worst rank under the pressure line, -100 x the overall drop fraction, -20 for a
 * load-balancing type change.
 */
import { capacityWhatIf } from "../capacityWhatIf";
import { computeEpLoad, type EpLoad } from "../computeEpLoad";
import { dropsAtCapacity } from "../dropsAtCapacity";
import { CAPACITY_LOAD_BALANCING_TYPES } from "../validateRunConfig";
import type { RunConfig } from "../types";
import { buildSuggestion } from "./buildSuggestion";
import type { AdvisorContext } from "./createAdvisorContext";
import { memorySentence } from "./memorySentence";
import { formatAdvice as f } from "./formatAdvice";
import { maxReceived, summarizeEpLoads } from "./predictEpLoad";
import { predictPeakMemory, receivedOfRanks } from "./predictPeakMemory";
import type { AdvisorRankReport, Suggestion } from "./types";

/** Counts a source rank would dispatch under capacity factor `cf`: each expert clipped at m x C, or padded up to it. */
function countsAtCapacity(r: AdvisorRankReport, topk: number, cf: number, pad: boolean): number[] {
  const counts = r.tokensPerExpertBeforeDrop?.length ? r.tokensPerExpertBeforeDrop : r.tokensPerExpert;
  if (r.tokens === 0) return counts;
  const cap = dropsAtCapacity(counts, r.tokens, topk, cf, r.microBatches).capacityPerExpert;
  return counts.map((c) => (pad ? cap : Math.min(c, cap)));
}

/** capacityFactorText prints a factor the way it goes on the command line ("1.0", "1.25"). */
export function capacityFactorText(cf: number): string {
  return Number.isInteger(cf) ? cf.toFixed(1) : String(cf);
}

/** capacitySuggestions proposes --moe-expert-capacity-factor at each candidate factor (and padding for the best one) with predicted drops, zero-drop factor and EP load. */
export function capacitySuggestions(ctx: AdvisorContext): Suggestion[] {
  const { config } = ctx;
  const topk = config.moe_router_topk;
  const cf0 = config.moe_expert_capacity_factor !== undefined && config.moe_expert_capacity_factor >= 0 ? config.moe_expert_capacity_factor : undefined;
  const factors = [...new Set(ctx.opts.capacityFactors)]
    .filter((cf) => Number.isFinite(cf) && cf > 0 && (cf0 === undefined || cf < cf0))
    .sort((a, b) => a - b);
  if (factors.length === 0) {
    if (cf0 !== undefined) ctx.notes.push(`capacity factor ${cf0} is already at or below every candidate factor: no lower factor to suggest`);
    return [];
  }
  const layers = ctx.input.layers.filter((l) => l.reports.length > 0);
  if (layers.length === 0) {
    ctx.notes.push("no per-rank expert counts at this step: capacity factors cannot be evaluated");
    return [];
  }

  const types = (config.moe_router_load_balancing_type ?? "aux_loss").split(/[\s,]+/).filter((t) => t !== "");
  const typeChange = types.some((t) => !(CAPACITY_LOAD_BALANCING_TYPES as readonly string[]).includes(t));
  const coeffMissing = (config.moe_aux_loss_coeff ?? 0) === 0 && config.extra?.moe_aux_loss_coeff === undefined;
  const policy = config.moe_token_drop_policy ?? "probs";
  const maxBefore = maxReceived(ctx.loadsNow);
  const pressure = ctx.opts.memoryPressureFraction * ctx.input.gpuMemoryBytes;

  const evaluate = (cf: number, pad: boolean) => {
    const whatIf = layers.map((l) => ({ layer: l.layer, w: capacityWhatIf(l.reports, topk, cf) }));
    const dropped = whatIf.reduce((a, x) => a + x.w.dropped, 0);
    const assignments = whatIf.reduce((a, x) => a + x.w.assignments, 0);
    const worstDrop = whatIf.reduce((a, x) => (x.w.dropFraction > a.w.dropFraction ? x : a), whatIf[0]);
    const zeroDrop = whatIf.reduce((a, x) => (x.w.capacityFactorForZeroDrops > a.w.capacityFactorForZeroDrops ? x : a), whatIf[0]);
    const loads: Array<{ layer: number; load: EpLoad }> = layers.map((l) => ({
      layer: l.layer,
      load: computeEpLoad(
        l.reports.map((r) => ({ rank: r.rank, coords: r.coords, tokensPerExpert: countsAtCapacity(r, topk, cf, pad) })),
        config,
      ),
    }));
    const summary = summarizeEpLoads(loads);
    const maxAfter = maxReceived(loads);
    const peaks = predictPeakMemory(ctx.memoryModel, ctx.latest, ctx.receivedNow, receivedOfRanks(loads, ctx.coordsNow));
    const dispatched = layers.reduce((a, l) => a + l.reports.reduce((b, r) => b + countsAtCapacity(r, topk, cf, false).reduce((x, y) => x + y, 0), 0), 0);
    const padded = pad ? layers.reduce((a, l) => a + l.reports.reduce((b, r) => b + countsAtCapacity(r, topk, cf, true).reduce((x, y) => x + y, 0), 0), 0) : dispatched;
    return {
      whatIf,
      overall: assignments > 0 ? dropped / assignments : 0,
      worstDrop,
      zeroDrop,
      estimate: whatIf.some((x) => x.w.estimate),
      basis: whatIf.every((x) => x.w.basis === "before-drop") ? "before-drop" : "dispatched",
      summary,
      maxAfter,
      peaks,
      padOverhead: dispatched > 0 ? padded / dispatched - 1 : 0,
    };
  };

  // Dropping tokens while the router is still learning is the cost a reader must see before the flags.
  const earlyDrops = (fraction: number, layer: number) =>
    ctx.input.step <= ctx.opts.earlyTrainingSteps && fraction > 0 ? `: drops ${f.percent(fraction)} of layer ${layer}'s assignments in early training` : "";

  const build = (cf: number, pad: boolean): Suggestion => {
    const e = evaluate(cf, pad);
    const relief = maxBefore > 0 ? 20 * Math.max(-1, Math.min(1, 1 - e.maxAfter / maxBefore)) : 0;
    const fitsMemory = e.peaks.ranksPredicted > 0 && e.peaks.worstAfter !== null && e.peaks.worstAfter.bytes <= pressure;
    const score = relief + (fitsMemory ? 40 : 0) - 100 * e.overall - (typeChange ? 20 : 0) - (pad ? 100 * e.padOverhead : 0);
    const configAfter: RunConfig = {
      ...config,
      moe_expert_capacity_factor: cf,
      moe_token_drop_policy: policy,
      moe_pad_expert_input_to_capacity: pad || config.moe_pad_expert_input_to_capacity,
    };
    const set: Array<[string, string | null]> = [
      ["--moe-expert-capacity-factor", capacityFactorText(cf)],
      ["--moe-token-drop-policy", policy],
    ];
    if (pad) set.push(["--moe-pad-expert-input-to-capacity", ""]);
    if (typeChange) {
      configAfter.moe_router_load_balancing_type = "aux_loss";
      set.push(["--moe-router-load-balancing-type", "aux_loss"]);
      if (coeffMissing) {
        configAfter.moe_aux_loss_coeff = 0.01;
        set.push(["--moe-aux-loss-coeff", "0.01"]);
      }
    }
    const perLayer: Record<string, number> = {};
    for (const x of e.whatIf) perLayer[`dropFraction@L${x.layer}`] = x.w.dropFraction;
    const rationale = [
      `At capacity factor ${capacityFactorText(cf)} (C = ceil(T_local x ${topk} / ${config.num_experts} x ${capacityFactorText(cf)}) per source rank and micro-batch), today's counts would drop ${f.percent(e.worstDrop.w.dropFraction)} of assignments in the worst layer (layer ${e.worstDrop.layer}) and ${f.percent(e.overall)} over all ${layers.length} observed layers.`,
      `Zero drops needs a factor of at least ${e.zeroDrop.w.capacityFactorForZeroDrops.toFixed(2)} (layer ${e.zeroDrop.layer})${e.estimate ? "; counts are summed over micro-batches, so these are estimates" : ""}.`,
      e.basis === "dispatched" && cf0 !== undefined
        ? `Only dispatched counts were reported under today's factor ${cf0}, so drops are underestimated.`
        : "",
      `The most tokens any EP rank receives in one layer: ${f.count(maxBefore)} -> ${f.count(e.maxAfter)} (worst max/mean ${f.times(ctx.epNow.worstRatio)} -> ${f.times(e.summary.worstRatio)}).`,
      pad
        ? `With --moe-pad-expert-input-to-capacity every expert processes exactly its capacity, so expert memory no longer depends on routing.`
        : `Drop policy ${policy}: ${policy === "probs" ? "the lowest-probability assignments of an over-full expert are dropped" : "the last assignments in sequence order are dropped"}.`,
      memorySentence(ctx, e.peaks.worstBefore?.bytes ?? null, e.peaks.worstAfter?.bytes ?? null, e.peaks.ranksPredicted),
      typeChange
        ? `Megatron refuses a capacity factor with load-balancing type ${types.join(" ")}: this also switches to aux_loss${coeffMissing ? " with --moe-aux-loss-coeff 0.01" : ""}, which changes how the router is trained.`
        : "",
      "Temporary: revert to dropless once the token distribution is stable.",
    ]
      .filter((s) => s !== "")
      .join(" ");
    const cost = [
      `drops ${f.percent(e.worstDrop.w.dropFraction)} of assignments in the worst layer (${f.percent(e.overall)} overall); a dropped assignment adds nothing to its token's output`,
      pad ? `padding adds ${f.percent(e.padOverhead)} expert compute over the tokens actually dispatched` : "",
    ]
      .filter((s) => s !== "")
      .join("; ");
    return buildSuggestion(ctx, {
      id: `capacity:${capacityFactorText(cf)}${pad ? ":pad" : ""}`,
      kind: "capacity",
      title: `Capacity factor ${cf0 === undefined ? "none" : cf0} -> ${capacityFactorText(cf)}${pad ? ", padded to capacity" : ""}${earlyDrops(e.worstDrop.w.dropFraction, e.worstDrop.layer)}`,
      configAfter,
      set,
      rationale,
      cost,
      numbers: {
        capacityFactor: cf,
        padToCapacity: pad || config.moe_pad_expert_input_to_capacity ? "on" : "off",
        dropPolicy: policy,
        dropFractionOverall: e.overall,
        dropFractionWorstLayer: e.worstDrop.w.dropFraction,
        worstDropLayer: e.worstDrop.layer,
        capacityFactorForZeroDrops: e.zeroDrop.w.capacityFactorForZeroDrops,
        estimate: e.estimate ? "yes" : "no",
        basis: e.basis,
        worstRatioBefore: ctx.epNow.worstRatio,
        worstRatioAfter: e.summary.worstRatio,
        worstReceivedBefore: ctx.epNow.worstReceived,
        worstReceivedAfter: e.summary.worstReceived,
        maxReceivedBefore: maxBefore,
        maxReceivedAfter: e.maxAfter,
        padOverhead: pad ? e.padOverhead : null,
        predictedPeakBytesBefore: e.peaks.worstBefore?.bytes ?? null,
        predictedPeakBytesAfter: e.peaks.ranksPredicted > 0 ? (e.peaks.worstAfter?.bytes ?? null) : null,
        ...perLayer,
      },
      score,
    });
  };

  const out = factors.map((cf) => build(cf, false));
  if (!config.moe_pad_expert_input_to_capacity) {
    const best = out.reduce((a, s) => (s.score > a.score ? s : a), out[0]);
    out.push(build(best.numbers.capacityFactor as number, true));
  }
  return out;
}
