/**
 * Synthetic advisor inputs for the advisor's tests: per-rank expert counts laid out on Megatron's mesh
 * (coordinates from rankCoordinates, layers on their pipeline stage), memory samples that follow a
 * known line, and a seeded generator so property tests are reproducible.
 */
import { computeEpLoad } from "../../computeEpLoad";
import { deriveParallelSizes } from "../../deriveParallelSizes";
import { rankCoordinates } from "../../rankCoordinates";
import { stageOfLayer } from "../../stageOfLayer";
import type { RunConfig } from "../../types";
import type { AdvisorLayerObservation, MemoryObservation } from "../types";

/** seededRandom returns a mulberry32 generator of uniforms in [0, 1) for `seed`. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** countsFromWeights splits tokens x topk assignments over experts in proportion to weights, never more than `tokens` per expert (top-k picks distinct experts). */
export function countsFromWeights(tokens: number, topk: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.min(tokens, Math.floor((tokens * topk * w) / total)));
  let rest = tokens * topk - counts.reduce((a, b) => a + b, 0);
  for (let e = 0; rest > 0 && e < counts.length; e = (e + 1) % counts.length) {
    const add = Math.min(rest, tokens - counts[e]);
    counts[e] += add;
    rest -= add;
  }
  return counts;
}

/** observeLayers builds one observation per MoE layer with a report from every rank of the layer's stage, counts from `weights(layer, rank)`. */
export function observeLayers(
  config: RunConfig,
  worldSize: number,
  opts: { layers: number[]; tokens: number; microBatches: number; weights: (layer: number, rank: number) => number[] },
): AdvisorLayerObservation[] {
  const s = deriveParallelSizes(config, worldSize);
  const sizes = { tp: s.tp, cp: s.cp, dp: s.dp, pp: s.pp, ep: s.ep, etp: s.etp, edp: s.edp };
  return opts.layers.map((layer) => {
    const { pp } = stageOfLayer(config, layer);
    const reports = [];
    for (let rank = 0; rank < worldSize; rank++) {
      const coords = rankCoordinates(rank, sizes);
      if (coords.pp !== pp) continue;
      reports.push({
        rank,
        coords,
        tokens: opts.tokens,
        microBatches: opts.microBatches,
        tokensPerExpert: countsFromWeights(opts.tokens, config.moe_router_topk, opts.weights(layer, rank)),
      });
    }
    return { layer, reports };
  });
}

/** receivedByRank sums, per rank, what its EP rank receives over the observed layers of its stage (computeEpLoad on the reported coordinates). */
export function receivedByRank(config: RunConfig, layers: AdvisorLayerObservation[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const { reports } of layers) {
    const load = computeEpLoad(reports, config);
    for (const r of reports) {
      const group = load.groups.find((g) => g.edp === r.coords.edp && g.pp === r.coords.pp)!;
      out.set(r.rank, (out.get(r.rank) ?? 0) + group.received[r.coords.ep]);
    }
  }
  return out;
}

/** memoryOnLine produces `samplesPerRank` samples per rank at steps before `step` with peak = base + perToken x received, received scaled by (0.8 + 0.05 i) so it varies. */
export function memoryOnLine(
  receivedByRank: Map<number, number>,
  step: number,
  line: { base: number; perToken: number },
  samplesPerRank: number,
): MemoryObservation[] {
  const out: MemoryObservation[] = [];
  for (const [rank, received] of receivedByRank) {
    for (let i = 0; i < samplesPerRank; i++) {
      const r = Math.round(received * (0.8 + 0.05 * i));
      out.push({ rank, step: step - (samplesPerRank - 1 - i), peakAllocatedBytes: line.base + line.perToken * r, receivedTokens: r });
    }
  }
  return out;
}
