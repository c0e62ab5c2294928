/**
 * A per-run linear memory model: peak allocated bytes = base + bytesPerToken x received tokens, fitted
 * by ordinary least squares over the (rank, step) samples the ranks reported.
 *
 * Why linear in received tokens: weights, gradients and optimizer state do not change from step to step,
 * and the part that does is dominated by the MoE layers' activations, which grow with the tokens the
 * rank's experts receive (the permuted inputs and the expert MLP's intermediate activations). The
 * intercept absorbs everything else. Samples from all ranks are pooled, so the intercept is an average
 * over pipeline stages (which hold different numbers of in-flight micro-batches and the embedding);
 * the advisor therefore uses the slope on top of each rank's own observed peak rather than the
 * intercept, and reports r2 and the RMS error so the UI can say how much to trust it.
 */
import { InvalidInput } from "../errors";

/** MemoryObservation: one rank's peak allocated memory in one step next to the tokens its EP rank received in that step, summed over the rank's MoE layers. */
export interface MemoryObservation {
  rank: number;
  step: number;
  peakAllocatedBytes: number;
  receivedTokens: number;
}

/** MemoryModel: peak = baseBytes + bytesPerToken x received, with goodness of fit over `samples` samples. */
export interface MemoryModel {
  baseBytes: number;
  bytesPerToken: number;
  /** Coefficient of determination (1 - SSres/SStot); 1 when every peak is equal and predicted exactly. */
  r2: number;
  samples: number;
  /** sqrt(SSres / samples). */
  rmsErrorBytes: number;
}

/** DEFAULT_MIN_MEMORY_SAMPLES: fewer samples than this give no model (two points always fit a line perfectly). */
export const DEFAULT_MIN_MEMORY_SAMPLES = 20;

/** fitMemoryModel fits peak = base + perToken x received by ordinary least squares; null with fewer than minSamples samples or when received never varies. */
export function fitMemoryModel(samples: MemoryObservation[], minSamples = DEFAULT_MIN_MEMORY_SAMPLES): MemoryModel | null {
  samples.forEach((s, i) => {
    if (!Number.isFinite(s.peakAllocatedBytes) || s.peakAllocatedBytes < 0) {
      throw new InvalidInput(`memory[${i}].peakAllocatedBytes is ${s.peakAllocatedBytes}, expected a finite number >= 0`, `memory[${i}].peakAllocatedBytes`);
    }
    if (!Number.isFinite(s.receivedTokens) || s.receivedTokens < 0) {
      throw new InvalidInput(`memory[${i}].receivedTokens is ${s.receivedTokens}, expected a finite number >= 0`, `memory[${i}].receivedTokens`);
    }
  });
  const n = samples.length;
  if (n < Math.max(2, minSamples)) return null;
  const meanX = samples.reduce((a, s) => a + s.receivedTokens, 0) / n;
  const meanY = samples.reduce((a, s) => a + s.peakAllocatedBytes, 0) / n;
  // Centred sums keep precision when bytes are ~1e11 and tokens ~1e6.
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const s of samples) {
    const dx = s.receivedTokens - meanX;
    const dy = s.peakAllocatedBytes - meanY;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return null;
  const bytesPerToken = sxy / sxx;
  const baseBytes = meanY - bytesPerToken * meanX;
  let ssRes = 0;
  for (const s of samples) ssRes += (s.peakAllocatedBytes - (baseBytes + bytesPerToken * s.receivedTokens)) ** 2;
  const r2 = syy === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / syy;
  return { baseBytes, bytesPerToken, r2, samples: n, rmsErrorBytes: Math.sqrt(ssRes / n) };
}
