/**
 * "Raise expert-tensor-parallel size and lower expert-model-parallel size" (the seed's first remedy for
 * early-training OOM), made concrete: every (EP, ETP) with EP <= today's, ETP >= today's, EP dividing the
 * experts and ETP x EP x PP dividing the world, with the received tokens predicted from today's counts.
 *
 * ETP is capped at the GPUs per node: an ETP group spanning nodes would put a per-layer all-gather and
 * reduce-scatter of every received token on the inter-node fabric, which the seed's guidance rules out.
 *
 * Ranking (score, higher first): inside the NVLink domain +100; needing --disable-bias-linear -50 (it
 * removes bias parameters, so a checkpoint trained with biases no longer matches; we add the flag and
 * keep the suggestion valid because Megatron starts, but list it after the ones that keep the model);
 * up to +20 for the predicted drop in the worst rank's expert activation (relative to today), +40 when
 * the memory model predicts the worst rank under the memory-pressure line; -5 per doubling of ETP and
 * per halving of EP, because each step adds communication and shrinks expert GEMMs. The smallest change
 * that relieves memory therefore comes first, as in the seed's example (EP 8 -> 4, ETP 1 -> 2).
 */
import { InvalidInput } from "../errors";
import { rankCoordinates } from "../rankCoordinates";
import type { RankCoords } from "../types";
import { buildSuggestion } from "./buildSuggestion";
import type { AdvisorContext } from "./createAdvisorContext";
import { formatAdvice as f } from "./formatAdvice";
import { memorySentence } from "./memorySentence";
import { epLoadUnderLayout, maxReceived, meshSizes, summarizeEpLoads, worstOf } from "./predictEpLoad";
import { expertActivationScale, expertWeightBytes, predictPeakMemory, receivedOfRanks } from "./predictPeakMemory";
import type { Suggestion } from "./types";

/** weightDeltaText words the largest per-stage change of expert weight memory. */
function weightDeltaText(now: Map<number, number>, after: Map<number, number> | null): string {
  let delta = 0;
  for (const [pp, bytes] of now) {
    const d = (after?.get(pp) ?? 0) - bytes;
    if (Math.abs(d) > Math.abs(delta)) delta = d;
  }
  return `${delta >= 0 ? "+" : "-"}${f.gib(Math.abs(delta))} per rank on the most affected stage`;
}

/** layoutTitle names a layout change, mentioning an unchanged size only in brackets ("EP 8 -> 4, ETP 1 -> 2", "EP 8 -> 4 (ETP 1)"). */
export function layoutTitle(ep0: number, ep: number, etp0: number, etp: number): string {
  if (etp === etp0) return `EP ${ep0} -> ${ep} (ETP ${etp})`;
  if (ep === ep0) return `ETP ${etp0} -> ${etp} (EP ${ep})`;
  return `EP ${ep0} -> ${ep}, ETP ${etp0} -> ${etp}`;
}

/** etpEpSuggestions proposes every valid ETP-up / EP-down layout with its predicted EP-rank load, node fit, communication cost and memory. */
export function etpEpSuggestions(ctx: AdvisorContext): Suggestion[] {
  const { config, sizes, world, gpusPerNode: gpn } = ctx;
  const ep0 = sizes.ep;
  const etp0 = sizes.etp;
  const experts = config.num_experts;
  const before = worstOf(ctx.loadsNow);
  const maxBefore = maxReceived(ctx.loadsNow);
  const weightsNow = expertWeightBytes(config, sizes);
  const out: Suggestion[] = [];
  for (let ep = ep0; ep >= 1; ep--) {
    if (experts % ep !== 0) continue;
    for (let etp = etp0; etp <= Math.max(etp0, gpn); etp++) {
      if ((ep === ep0 && etp === etp0) || world % (etp * ep * sizes.pp) !== 0) continue;
      const needsBias = etp > 1 && !config.disable_bias_linear;
      const configAfter = {
        ...config,
        expert_model_parallel_size: ep,
        expert_tensor_parallel_size: etp === etp0 ? config.expert_tensor_parallel_size : etp,
        disable_bias_linear: needsBias ? true : config.disable_bias_linear,
      };
      let loadsAfter;
      try {
        loadsAfter = epLoadUnderLayout(ctx.input.layers, configAfter, world);
      } catch (e) {
        if (e instanceof InvalidInput) continue;
        throw e;
      }
      const sizesAfter = meshSizes(configAfter, world);
      const after = worstOf(loadsAfter);
      const summary = summarizeEpLoads(loadsAfter);
      const scale = expertActivationScale(config, etp0, etp);
      const maxAfter = maxReceived(loadsAfter);
      // Memory follows the most tokens any EP rank receives, not the ratio: compare absolute maxima.
      const relative = maxBefore > 0 ? (maxAfter * scale.scale) / maxBefore : null;

      const coordsAfter = new Map<number, RankCoords>();
      for (const rank of ctx.coordsNow.keys()) coordsAfter.set(rank, rankCoordinates(rank, sizesAfter));
      const weightsAfter = expertWeightBytes(configAfter, sizesAfter);
      const weightDelta = (rank: number) => {
        const pp = ctx.coordsNow.get(rank)?.pp ?? -1;
        return weightsNow && weightsAfter ? (weightsAfter.get(pp) ?? 0) - (weightsNow.get(pp) ?? 0) : 0;
      };
      const peaks = predictPeakMemory(ctx.memoryModel, ctx.latest, ctx.receivedNow, receivedOfRanks(loadsAfter, coordsAfter), scale.scale, weightDelta);
      const pressure = ctx.opts.memoryPressureFraction * ctx.input.gpuMemoryBytes;
      const fitsMemory = peaks.worstAfter !== null && peaks.ranksPredicted > 0 ? peaks.worstAfter.bytes <= pressure : null;
      const fits = ep * etp <= gpn;

      const relief = relative === null ? 0 : 20 * Math.max(-1, Math.min(1, 1 - relative));
      const weightFactor = (ep0 * etp0) / (ep * etp);
      // More experts per rank means more static memory for good; the memory model counts it when sizes are known.
      const weightPenalty = weightFactor > 1 ? 10 * Math.log2(weightFactor) : 0;
      const score =
        (fits ? 100 : 0) - (needsBias ? 50 : 0) + relief + (fitsMemory ? 40 : 0) - weightPenalty - 5 * Math.log2(etp / etp0) - 5 * Math.log2(ep0 / ep);

      const set: Array<[string, string | null]> = [["--expert-model-parallel-size", String(ep)]];
      if (etp !== etp0) set.push(["--expert-tensor-parallel-size", String(etp)]);
      if (needsBias) set.push(["--disable-bias-linear", ""]);

      const local0 = experts / ep0;
      const local = experts / ep;
      const rationale = [
        before
          ? `Worst EP rank receives ${f.times(before.ratio)} its group's mean today (layer ${before.layer}, edp ${before.edp}, pp ${before.pp}, EP rank ${before.epRank}: ${f.count(before.received)} tokens),`
          : "No EP-rank load observed today,",
        after
          ? `about ${f.times(after.ratio)} after (layer ${after.layer}: ${f.count(after.received)} tokens for ${local} expert${local > 1 ? "s" : ""} per EP rank${etp > 1 ? `, each of its ${etp} ETP ranks holding 1/${etp} of the expert MLP` : ""}).`
          : "no prediction after the change.",
        relative !== null
          ? `Most-loaded rank's expert activation: ~${f.times(relative)} of today's (${f.count(maxBefore)} -> ${f.count(maxAfter)} received tokens in one layer)${scale.known ? "" : " (hidden and FFN sizes unknown: no credit taken for the ETP split, an upper bound)"}.`
          : "",
        `EP x ETP = ${ep * etp} ${fits ? "fits in" : "exceeds"} the ${gpn}-GPU node.`,
        `Valid for world ${world}, TP ${sizes.tp}, CP ${sizes.cp}, PP ${sizes.pp} (DP ${sizes.dp}; EDP ${sizes.edp} -> ${sizesAfter.edp}).`,
        memorySentence(ctx, peaks.worstBefore?.bytes ?? null, peaks.worstAfter?.bytes ?? null, peaks.ranksPredicted),
        weightFactor !== 1
          ? `Expert weights and their gradients/optimizer state per rank change by ${f.times(weightFactor)} (E/(EP x ETP) experts' worth)${weightsNow ? `: ${weightDeltaText(weightsNow, expertWeightBytes(configAfter, sizesAfter))}, included in the memory prediction` : "; hidden and FFN sizes are unknown, so the memory prediction leaves this out"}.`
          : "",
        needsBias
          ? "Adds --disable-bias-linear, which ETP > 1 requires: if the model was trained with biases in its linear layers, this changes the model and the checkpoint will not load as-is."
          : "",
      ]
        .filter((s) => s !== "")
        .join(" ");
      const cost = [
        ep === 1 ? "no expert all-to-all (EP 1)" : `expert all-to-all over ${ep} ranks instead of ${ep0}`,
        etp > 1
          ? `an all-gather and reduce-scatter of every received token over ${etp} ETP ranks in each MoE layer, forward and backward${etp0 > 1 ? ` (was ${etp0})` : ""}, and expert GEMMs 1/${etp} as wide`
          : "",
        local !== local0 ? `${local} local experts per rank instead of ${local0}${local > 1 && !config.moe_grouped_gemm ? " (--moe-grouped-gemm recommended)" : ""}` : "",
        fits ? "" : `expert traffic leaves the NVLink domain (EP x ETP = ${ep * etp} > ${gpn} GPUs per node)`,
      ]
        .filter((s) => s !== "")
        .join("; ");

      out.push(
        buildSuggestion(ctx, {
          id: `etp-ep:etp${etp}-ep${ep}`,
          kind: "etp-ep",
          title: layoutTitle(ep0, ep, etp0, etp),
          configAfter,
          set,
          rationale,
          cost,
          numbers: {
            epBefore: ep0,
            epAfter: ep,
            etpBefore: etp0,
            etpAfter: etp,
            edpAfter: sizesAfter.edp,
            worstRatioBefore: ctx.epNow.worstRatio,
            worstRatioAfter: summary.worstRatio,
            worstReceivedBefore: ctx.epNow.worstReceived,
            worstReceivedAfter: summary.worstReceived,
            maxReceivedBefore: maxBefore,
            maxReceivedAfter: maxAfter,
            expertActivationScale: scale.scale,
            worstActivationRelative: relative,
            epTimesEtp: ep * etp,
            fitsNode: fits ? "yes" : "no",
            expertWeightFactor: weightFactor,
            expertWeightBytesDelta: weightsNow && weightsAfter ? Math.max(...[...weightsNow.keys()].map((pp) => (weightsAfter.get(pp) ?? 0) - (weightsNow.get(pp) ?? 0))) : null,
            predictedPeakBytesBefore: peaks.worstBefore?.bytes ?? null,
            predictedPeakBytesAfter: peaks.ranksPredicted > 0 ? (peaks.worstAfter?.bytes ?? null) : null,
            gpuMemoryBytes: ctx.input.gpuMemoryBytes,
          },
          score,
          warnings: needsBias
            ? [{ rule: "disable-bias-linear-changes-model", severity: "warning", message: "--disable-bias-linear removes the bias of every linear layer: a checkpoint trained with biases does not match the new model" }]
            : [],
        }),
      );
    }
  }
  return out;
}
