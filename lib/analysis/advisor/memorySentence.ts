/**
 * The memory sentence every rationale ends with, so "today" and "after" read the same way everywhere
 * and a missing model is always explained.
 */
import type { AdvisorContext } from "./createAdvisorContext";
import { formatAdvice as f } from "./formatAdvice";

/** memorySentence words a before/after peak prediction for rationales. */
export function memorySentence(ctx: AdvisorContext, before: number | null, after: number | null, predictedRanks: number): string {
  const gpu = f.gib(ctx.input.gpuMemoryBytes);
  if (before === null) return "Memory: no samples yet, so no memory prediction.";
  if (ctx.memoryModel === null || after === null || predictedRanks === 0) {
    const why =
      ctx.memoryModel !== null
        ? "no layer counts for the sampled ranks"
        : ctx.fittedMemoryModel !== null
          ? `the memory model's fit, r2 ${ctx.fittedMemoryModel.r2.toFixed(2)}, is below ${ctx.opts.minMemoryFitR2.toFixed(2)}`
          : "no memory model yet";
    return `Memory: worst rank at ~${f.gib(before)} of ${gpu} today; no prediction (${why}).`;
  }
  return `Memory: worst rank at ~${f.gib(before)} of ${gpu} today, ~${f.gib(after)} after (linear model, r2 ${ctx.memoryModel.r2.toFixed(2)}).`;
}
