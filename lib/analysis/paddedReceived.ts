/**
 * Tokens each EP rank receives under `--moe-pad-expert-input-to-capacity`. With padding the
 * alltoall dispatcher (megatron/core/transformer/moe/token_dispatcher.py
 * `MoEAlltoAllTokenDispatcher.preprocess`, drop_and_pad branch) gives every local expert exactly
 * `capacity * tp_size * ep_size` tokens per micro-batch, where tp_size is the expert-TP size: C from
 * each of the ETP x EP source ranks of the dispatch group. So padding makes the EP load perfectly
 * even, at the cost of computing on padding. C is per source rank and micro-batch, as in megatronCapacity.
 * (Megatron's router keeps all T tokens per expert when C > T; the dispatcher still sizes buffers at C,
 * and we follow the dispatcher.)
 */
import { InvalidInput } from "./errors";
import { megatronCapacity } from "./megatronCapacity";
import { requireInteger } from "./requireInteger";

/** PaddedReceived: the per-EP-rank load under pad-to-capacity for one layer and step. */
export interface PaddedReceived {
  capacityPerMicroBatch: number;
  /** Tokens each local expert receives in the step: m * C * ETP * EP. */
  perLocalExpert: number;
  /** Tokens each EP rank receives in the step (all its E/EP experts), one entry per EP rank. */
  perEpRank: number[];
}

/** paddedReceived gives the tokens every EP rank receives under --moe-pad-expert-input-to-capacity: m * C * ETP * EP per local expert, times E/EP experts. */
export function paddedReceived(args: {
  tokensLocal: number;
  topk: number;
  numExperts: number;
  capacityFactor: number;
  microBatches: number;
  ep: number;
  etp: number;
}): PaddedReceived {
  const { tokensLocal, topk, numExperts, capacityFactor } = args;
  const m = requireInteger(args.microBatches, "microBatches");
  const ep = requireInteger(args.ep, "expert_model_parallel_size");
  const etp = requireInteger(args.etp, "expert_tensor_parallel_size");
  if (numExperts % ep !== 0) {
    throw new InvalidInput(`num_experts ${numExperts} is not divisible by expert_model_parallel_size ${ep}`, "expert_model_parallel_size");
  }
  const capacityPerMicroBatch = megatronCapacity(tokensLocal / m, topk, numExperts, capacityFactor);
  const perLocalExpert = m * capacityPerMicroBatch * etp * ep;
  const perRank = perLocalExpert * (numExperts / ep);
  return { capacityPerMicroBatch, perLocalExpert, perEpRank: Array.from({ length: ep }, () => perRank) };
}
