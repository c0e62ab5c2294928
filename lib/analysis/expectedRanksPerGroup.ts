/**
 * Size of one EP dispatch group: the ranks sharing (edp, pp) in the expert mesh ETP x EP x EDP x PP
 * (MoE parallel folding, megatron/core/parallel_state.py), i.e. the `tp_ep_group` the alltoall
 * dispatcher exchanges tokens in.
 */
import { InvalidInput } from "./errors";
import { requireInteger } from "./requireInteger";
import type { RunConfig } from "./types";

/** expectedRanksPerGroup returns ETP * EP, after checking that the world size fits the expert mesh ETP*EP*PP. */
export function expectedRanksPerGroup(config: RunConfig, worldSize: number): number {
  requireInteger(worldSize, "world_size");
  const ep = requireInteger(config.expert_model_parallel_size, "expert_model_parallel_size");
  const etp = requireInteger(config.expert_tensor_parallel_size ?? config.tensor_model_parallel_size, "expert_tensor_parallel_size");
  const pp = requireInteger(config.pipeline_model_parallel_size, "pipeline_model_parallel_size");
  if (worldSize % (etp * ep * pp) !== 0) {
    throw new InvalidInput(
      `world size ${worldSize} is not divisible by ETP*EP*PP = ${etp * ep * pp} (expert_tensor_parallel_size ${etp} x expert_model_parallel_size ${ep} x pipeline_model_parallel_size ${pp})`,
      "world_size",
    );
  }
  return etp * ep;
}
