/**
 * The mitigation advisor: from one run's configuration, launch command, per-rank expert counts at a
 * step, memory samples and imbalance history, the exact launch changes that relieve an imbalance-driven
 * OOM (ETP up / EP down, a capacity factor, MoE recomputation, router levers when imbalance persists
 * past early training) or, once the run has been balanced for a whole window, that undo those temporary
 * mitigations. Every suggestion is checked against Megatron's rules for the run's own mesh.
 *
 * When advice is given:
 * - the run needs relief when today's worst EP imbalance or MaxVio is at or above the alert
 *   thresholds (the ep-imbalance-high and maxvio-high rules' effective thresholds, passed in, so the
 *   page never says "needs relief" while no alert fires), or the worst rank's peak is at or above the
 *   memory-pressure fraction of the GPU; between the stable and the alert thresholds the same changes
 *   are offered as precautions, and said to be; router levers only if the history shows the imbalance
 *   persisting past early training;
 * - otherwise, if a temporary mitigation is in force and the stable window holds, revert advice;
 * - otherwise nothing, with a note saying why.
 * A suggestion whose changed configuration breaks a rule the run's own configuration does not break is
 * dropped (and counted in the notes) rather than shown as invalid: it is not a candidate. Suggestions
 * are listed by kind (etp-ep, capacity, recompute, router, revert), valid first, then by score.
 */
import { InvalidInput } from "../errors";
import { capacitySuggestions } from "./capacitySuggestions";
import { createAdvisorContext } from "./createAdvisorContext";
import { etpEpSuggestions } from "./etpEpSuggestions";
import { formatAdvice as f } from "./formatAdvice";
import { recomputeSuggestions } from "./recomputeSuggestions";
import { mitigationsInForce, revertSuggestions } from "./revertSuggestions";
import { routerSuggestions } from "./routerSuggestions";
import type { AdvisorInput, AdvisorResult, Suggestion, SuggestionKind } from "./types";
import { validateSuggestion } from "./validateSuggestion";

// The advisor's shapes live in ./types (shared with the builders); callers import them from here.
export type {
  AdvisorInput,
  AdvisorLayerObservation,
  AdvisorOptions,
  AdvisorRankReport,
  AdvisorResult,
  FlagChange,
  HistoryPoint,
  MemoryObservation,
  Suggestion,
  SuggestionKind,
} from "./types";
export { DEFAULT_ADVISOR_OPTIONS } from "./types";
export type { MemoryModel } from "./fitMemoryModel";

const KIND_ORDER: SuggestionKind[] = ["etp-ep", "capacity", "recompute", "router", "revert"];

/** adviseMitigations computes the launch changes that relieve (or, once stable, undo the relief of) expert load imbalance for one run at one step, each validated against the run's mesh. */
export function adviseMitigations(input: AdvisorInput): AdvisorResult {
  try {
    return advise(input);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    // A launcher polls this before a restart: an explanation serves it better than an exception.
    return { step: input.step, suggestions: [], memoryModel: null, memoryPredictionsOff: null, notes: [`cannot advise: ${e.message}`] };
  }
}

function advise(input: AdvisorInput): AdvisorResult {
  const ctx = createAdvisorContext(input);
  const { opts, notes } = ctx;
  const cluster = { worldSize: input.worldSize, gpusPerNode: input.gpusPerNode };
  const ownErrors = validateSuggestion(input.config, cluster).filter((v) => v.severity === "error");
  for (const v of ownErrors) notes.push(`the run's own configuration breaks ${v.rule}: ${v.message}`);

  const lastPoint = input.history.filter((p) => p.step <= input.step).at(-1);
  const epImbalance = ctx.epNow.worstRatio ?? (input.layers.length === 0 ? (lastPoint?.epImbalance ?? null) : null);
  const maxVio = ctx.maxVioNow?.value ?? (input.layers.length === 0 ? (lastPoint?.maxVio ?? null) : null);
  const imbalanced = (epImbalance !== null && epImbalance >= opts.stableEpImbalance) || (maxVio !== null && maxVio >= opts.stableMaxVio);
  const overAlert = (epImbalance !== null && epImbalance >= opts.reliefEpImbalance) || (maxVio !== null && maxVio >= opts.reliefMaxVio);
  let worstPeak = 0;
  for (const s of ctx.latest.values()) worstPeak = Math.max(worstPeak, s.peakAllocatedBytes);
  const headroom = input.gpuMemoryBytes > 0 ? worstPeak / input.gpuMemoryBytes : null;
  const pressured = headroom !== null && headroom >= opts.memoryPressureFraction;
  const state = `EP imbalance ${f.times(epImbalance)}, MaxVio ${maxVio === null ? "n/a" : maxVio.toFixed(2)}${headroom === null || ctx.latest.size === 0 ? "" : `, worst peak ${f.percent(headroom)} of GPU memory`}`;

  let suggestions: Suggestion[] = [];
  const inForce = mitigationsInForce(input.config, cluster);
  const mitigated = inForce.layout !== null || inForce.capacity || inForce.recompute;
  if (imbalanced || pressured) {
    if (overAlert || pressured) notes.push(`step ${input.step} needs relief: ${state}`);
    else {
      notes.push(
        `step ${input.step} is above the balanced level but under the alert thresholds (EP imbalance ${f.times(opts.reliefEpImbalance)}, MaxVio ${opts.reliefMaxVio.toFixed(2)}): ${state}; the changes below are precautions`,
      );
    }
    if (!pressured && headroom !== null && ctx.latest.size > 0) {
      notes.push(`memory is not tight yet (worst peak ${f.percent(headroom)} of GPU memory): the layout, capacity and recomputation changes are precautions`);
    }
    suggestions.push(...etpEpSuggestions(ctx), ...capacitySuggestions(ctx), ...recomputeSuggestions(ctx), ...routerSuggestions(ctx));
    if (!ctx.history.persisting && input.step > opts.earlyTrainingSteps) {
      notes.push("router levers are offered only when imbalance persists over the stable window past early training; the history does not show that yet");
    }
  } else if (mitigated) {
    if (ctx.history.stable) suggestions.push(...revertSuggestions(ctx, inForce));
    else {
      const what = [inForce.layout ? "raised ETP" : "", inForce.capacity ? "a capacity factor" : "", inForce.recompute ? "MoE recomputation" : ""].filter((s) => s !== "").join(", ");
      notes.push(
        `balanced at step ${input.step} (${state}) with a temporary mitigation in force (${what}): revert advice after ~${ctx.history.stepsUntilStable} more balanced step(s) of the ${opts.stableWindowSteps}-step window`,
      );
    }
  } else {
    notes.push(`the run is healthy at step ${input.step} (${state}) and no temporary mitigation is in force: nothing to change`);
  }

  const ownRules = new Set(ownErrors.map((v) => v.rule));
  const kept = suggestions.filter((s) => s.violations.every((v) => v.severity !== "error" || ownRules.has(v.rule)));
  if (kept.length < suggestions.length) {
    const dropped = suggestions.filter((s) => !kept.includes(s));
    const rules = [...new Set(dropped.flatMap((s) => s.violations.filter((v) => v.severity === "error").map((v) => v.rule)))];
    notes.push(`${dropped.length} candidate(s) left out because Megatron would refuse them (${rules.join(", ")})`);
  }
  suggestions = kept.sort(
    (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || Number(b.valid) - Number(a.valid) || b.score - a.score,
  );
  return { step: input.step, suggestions, memoryModel: ctx.fittedMemoryModel, memoryPredictionsOff: ctx.memoryPredictionsOff, notes };
}
