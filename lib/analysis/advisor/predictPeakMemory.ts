/**
 * A rank's peak memory after a change, from its own latest observed peak and the fitted per-token slope:
 *   predicted = observed peak + bytesPerToken x (received after - received now),
 * where "received now" is what the rank reported with its memory sample and "received after" scales it
 * by the change the layer counts predict for that rank (after / before, both computed from the same
 * per-rank counts, so partial reports and a sample from another step cancel out). Using each rank's own
 * peak instead of the pooled intercept keeps per-stage differences (embedding, in-flight micro-batches)
 * that a single line cannot represent.
 */
import type { RankCoords, RunConfig } from "../types";
import type { EpLoad } from "../computeEpLoad";
import type { MemoryModel } from "./fitMemoryModel";
import type { MemoryObservation } from "./types";

/** PeakPrediction: the worst observed rank now and the worst predicted rank after, in bytes. */
export interface PeakPrediction {
  worstBefore: { rank: number; bytes: number } | null;
  worstAfter: { rank: number; bytes: number } | null;
  ranksPredicted: number;
}

/** latestMemory returns each rank's most recent memory sample at or before `step`. */
export function latestMemory(samples: MemoryObservation[], step: number): Map<number, MemoryObservation> {
  const out = new Map<number, MemoryObservation>();
  for (const s of samples) {
    if (s.step > step) continue;
    const prev = out.get(s.rank);
    if (!prev || s.step > prev.step || (s.step === prev.step && s.peakAllocatedBytes > prev.peakAllocatedBytes)) out.set(s.rank, s);
  }
  return out;
}

/** receivedOfRanks sums, for each rank, the tokens its EP rank receives over all observed layers of its pipeline stage. */
export function receivedOfRanks(loads: Array<{ load: EpLoad }>, coords: Map<number, RankCoords>): Map<number, number> {
  const out = new Map<number, number>();
  const byGroup = new Map<string, number[]>();
  for (const { load } of loads) {
    for (const g of load.groups) {
      const key = `${g.edp}/${g.pp}`;
      const sum = byGroup.get(key) ?? Array<number>(g.received.length).fill(0);
      g.received.forEach((r, i) => (sum[i] += r));
      byGroup.set(key, sum);
    }
  }
  for (const [rank, c] of coords) out.set(rank, byGroup.get(`${c.edp}/${c.pp}`)?.[c.ep] ?? 0);
  return out;
}

/**
 * expertActivationScale is the factor by which one received token's expert activation memory changes when ETP goes from `etpFrom` to `etpTo`; 1 when the model's sizes are unknown.
 * Per received token an ETP rank keeps the token itself (hidden_size, not split by ETP) and the expert
 * MLP's intermediate activations (fc1 output and activation output: 3 x ffn with a gated unit such as
 * SwiGLU, 2 x ffn otherwise), which ETP splits. Without hidden_size and moe_ffn_hidden_size (or
 * ffn_hidden_size) no split is credited, which over-estimates memory after raising ETP.
 */
export function expertActivationScale(config: RunConfig, etpFrom: number, etpTo: number): { scale: number; known: boolean } {
  const hidden = config.hidden_size;
  const ffnText = config.extra?.ffn_hidden_size;
  const ffn = config.moe_ffn_hidden_size ?? (ffnText !== undefined && /^\d+$/.test(ffnText.trim()) ? Number(ffnText) : undefined);
  if (!hidden || !ffn) return { scale: 1, known: false };
  const gated = config.extra?.swiglu !== undefined && config.extra.swiglu !== "false";
  const ffnPart = (gated ? 3 : 2) * ffn;
  return { scale: (hidden + ffnPart / etpTo) / (hidden + ffnPart / etpFrom), known: true };
}

/** predictPeakMemory predicts each sampled rank's peak after a change that moves its received tokens from `before` to `after` (times `scale` bytes per token), and returns the worst rank before and after; ranks without counts keep their observed peak. */
export function predictPeakMemory(
  model: MemoryModel | null,
  latest: Map<number, MemoryObservation>,
  before: Map<number, number>,
  after: Map<number, number>,
  scale = 1,
): PeakPrediction {
  let worstBefore: PeakPrediction["worstBefore"] = null;
  let worstAfter: PeakPrediction["worstAfter"] = null;
  let ranksPredicted = 0;
  for (const [rank, sample] of latest) {
    if (worstBefore === null || sample.peakAllocatedBytes > worstBefore.bytes) worstBefore = { rank, bytes: sample.peakAllocatedBytes };
    if (model === null) continue;
    const b = before.get(rank);
    const a = after.get(rank);
    let bytes = sample.peakAllocatedBytes;
    // A rank without layer counts keeps its observed peak: the change's effect on it is unknown, not zero memory.
    if (b !== undefined && a !== undefined && b > 0) {
      const receivedAfter = sample.receivedTokens * (a / b) * scale;
      bytes = Math.max(0, sample.peakAllocatedBytes + model.bytesPerToken * (receivedAfter - sample.receivedTokens));
      ranksPredicted++;
    }
    if (worstAfter === null || bytes > worstAfter.bytes) worstAfter = { rank, bytes };
  }
  return { worstBefore, worstAfter, ranksPredicted };
}
