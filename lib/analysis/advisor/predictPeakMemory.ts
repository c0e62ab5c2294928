/**
 * A rank's peak memory after a change, from its own latest observed peak and the fitted per-token slope:
 *   predicted = observed peak + bytesPerToken x (received after - received now),
 * where "received now" is what the rank reported with its memory sample and "received after" scales it
 * by the change the layer counts predict for that rank (after / before, both computed from the same
 * per-rank counts, so partial reports and a sample from another step cancel out). Using each rank's own
 * peak instead of the pooled intercept keeps per-stage differences (embedding, in-flight micro-batches)
 * that a single line cannot represent.
 *
 * Raising ETP changes what one received token costs: per received token an ETP rank keeps the token
 * itself (hidden_size, not split by ETP) and the expert MLP's intermediate activations (fc1 output and
 * activation output: 3 x ffn with a gated unit such as SwiGLU, 2 x ffn otherwise), which ETP splits.
 * Without hidden_size and moe_ffn_hidden_size (or ffn_hidden_size) no split is credited, which
 * over-estimates memory after raising ETP.
 *
 * Changing EP x ETP also changes static memory: routed-expert parameters per MoE layer are
 * 2 x hidden x ffn x E (x 3/2 with SwiGLU), a rank holds 1/(EP x ETP) of them, and a parameter costs
 * 18 bytes (bf16 weight, fp32 main grad, fp32 master and Adam states) or 6 + 12/EDP with the
 * distributed optimizer, which shards expert optimizer state over the expert data-parallel group
 * (megatron/training/theoretical_memory_usage.py).
 */
import type { EpLoad } from "../computeEpLoad";
import { configExtraFlag } from "../configExtra";
import { moeLayerNumbers } from "../parseMoeLayerFreq";
import type { MeshSizeSet } from "../rankCoordinates";
import { stageOfLayer } from "../stageOfLayer";
import { expertFfnSize } from "./expertFfnSize";
import type { RankCoords, RunConfig } from "../types";
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

/** expertActivationScale is the factor by which one received token's expert activation memory changes when ETP goes from `etpFrom` to `etpTo` (see the module comment); 1 when the model's sizes are unknown. */
export function expertActivationScale(config: RunConfig, etpFrom: number, etpTo: number): { scale: number; known: boolean } {
  const hidden = config.hidden_size;
  const ffn = expertFfnSize(config);
  if (!hidden || !ffn) return { scale: 1, known: false };
  const gated = configExtraFlag(config, "swiglu");
  const ffnPart = (gated ? 3 : 2) * ffn;
  return { scale: (hidden + ffnPart / etpTo) / (hidden + ffnPart / etpFrom), known: true };
}

/** expertWeightBytes returns, per pipeline stage, the bytes a rank spends on routed-expert weights, gradients and optimizer state (see the module comment); null when hidden or FFN size is unknown. */
export function expertWeightBytes(config: RunConfig, sizes: MeshSizeSet): Map<number, number> | null {
  const hidden = config.hidden_size;
  const ffn = expertFfnSize(config);
  if (!hidden || !ffn) return null;
  const gated = configExtraFlag(config, "swiglu") ? 1.5 : 1;
  const perLayer = (2 * hidden * ffn * config.num_experts * gated) / (sizes.ep * sizes.etp);
  const bytesPerParam = configExtraFlag(config, "use_distributed_optimizer") ? 6 + 12 / sizes.edp : 18;
  const out = new Map<number, number>();
  for (const layer of moeLayerNumbers(config)) {
    const { pp } = stageOfLayer(config, layer);
    out.set(pp, (out.get(pp) ?? 0) + perLayer * bytesPerParam);
  }
  return out;
}

/** predictPeakMemory predicts each sampled rank's peak after a change that moves its received tokens from `before` to `after` (times `scale` bytes per token) and its static memory by `extraBytes(rank)`, and returns the worst rank before and after. */
export function predictPeakMemory(
  model: MemoryModel | null,
  latest: Map<number, MemoryObservation>,
  before: Map<number, number>,
  after: Map<number, number>,
  scale = 1,
  extraBytes: (rank: number) => number = () => 0,
): PeakPrediction {
  let worstBefore: PeakPrediction["worstBefore"] = null;
  let worstAfter: PeakPrediction["worstAfter"] = null;
  let ranksPredicted = 0;
  for (const [rank, sample] of latest) {
    if (worstBefore === null || sample.peakAllocatedBytes > worstBefore.bytes) worstBefore = { rank, bytes: sample.peakAllocatedBytes };
    if (model === null) continue;
    const b = before.get(rank);
    const a = after.get(rank);
    let bytes = sample.peakAllocatedBytes + extraBytes(rank);
    // A rank without layer counts keeps its observed activation term: the change's effect on it is unknown, not zero.
    if (b !== undefined && a !== undefined && b > 0) {
      const receivedAfter = sample.receivedTokens * (a / b) * scale;
      bytes += model.bytesPerToken * (receivedAfter - sample.receivedTokens);
      ranksPredicted++;
    }
    bytes = Math.max(0, bytes);
    if (worstAfter === null || bytes > worstAfter.bytes) worstAfter = { rank, bytes };
  }
  return { worstBefore, worstAfter, ranksPredicted };
}
