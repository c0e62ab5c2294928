/**
 * Megatron's start-up rules for an MoE run, as a list of violations instead of an exception: the
 * advisor checks every configuration it proposes, and the UI shows all problems of a pasted one at once.
 * Sources (DESIGN.md "Run configuration and Megatron's rules"):
 * - rules 1-2: megatron/core/parallel_state.py `initialize_model_parallel` (world divisible by the
 *   attention mesh TP*PP*CP and, with MoE parallel folding, by the expert mesh ETP*EP*PP);
 * - rule 3: megatron/training/arguments.py (num_experts % expert_model_parallel_size);
 * - rule 4: megatron/core/transformer/moe/moe_layer.py (training with TP > 1 and no SP raises);
 * - rule 5: megatron/core/transformer/transformer_config.py ("Bias in Moe is only supported when ETP==1");
 * - rule 6: megatron/core/num_microbatches_calculator.py (GBS % (MBS*DP));
 * - rule 7: transformer_config.py (pad needs a capacity factor; a capacity factor needs aux_loss,
 *   seq_aux_loss, global_aux_loss or none);
 * - rule 8 (warnings): the seed's guidance to keep EP x ETP (and TP) inside the NVLink domain.
 * Plus the pipeline split and moe_layer_freq checks Megatron makes while building the model.
 */
import { InvalidInput } from "./errors";
import { parseMoeLayerFreq } from "./parseMoeLayerFreq";
import { pipelineLayout } from "./pipelineLayout";
import type { RunConfig } from "./types";
import { moeLayoutUnknown } from "./moeLayoutUnknown";

/** ConfigViolation: one broken rule; `rule` is a stable short id, `message` names the flags and numbers. */
export interface ConfigViolation {
  rule: string;
  severity: "error" | "warning";
  message: string;
}

/** CAPACITY_LOAD_BALANCING_TYPES: the load-balancing types Megatron allows together with a capacity factor. */
export const CAPACITY_LOAD_BALANCING_TYPES = ["aux_loss", "seq_aux_loss", "global_aux_loss", "none"] as const;

/** validateRunConfig lists every Megatron rule (DESIGN 1-8, pipeline split, moe_layer_freq) the configuration breaks on this cluster; empty means Megatron would start. */
export function validateRunConfig(config: RunConfig, cluster: { worldSize: number; gpusPerNode?: number }): ConfigViolation[] {
  const out: ConfigViolation[] = [];
  const error = (rule: string, message: string) => out.push({ rule, severity: "error", message });
  const warning = (rule: string, message: string) => out.push({ rule, severity: "warning", message });

  // An import without an arguments block: the parallel sizes are checked, the MoE rules have nothing to check.
  const layoutUnknown = moeLayoutUnknown(config);
  const tp = config.tensor_model_parallel_size;
  const pp = config.pipeline_model_parallel_size;
  const cp = config.context_parallel_size;
  const ep = config.expert_model_parallel_size;
  const etpSet = config.expert_tensor_parallel_size !== undefined;
  const etp = config.expert_tensor_parallel_size ?? tp;
  const world = cluster.worldSize;

  // Divisibility arithmetic on non-positive or fractional sizes would produce nonsense messages: stop here.
  const sizes: Array<[string, number]> = [
    ["world size", world],
    ["tensor_model_parallel_size", tp],
    ["pipeline_model_parallel_size", pp],
    ["context_parallel_size", cp],
    ["expert_model_parallel_size", ep],
    ["expert_tensor_parallel_size", etp],
    ...(layoutUnknown
      ? []
      : ([
          ["num_experts", config.num_experts],
          ["num_layers", config.num_layers],
          ["moe_router_topk", config.moe_router_topk],
        ] as Array<[string, number]>)),
  ];
  for (const [name, value] of sizes) {
    if (!Number.isInteger(value) || value < 1) error("positive-integer-sizes", `${name} must be a positive integer, got ${value}`);
  }
  if (cluster.gpusPerNode !== undefined && (!Number.isInteger(cluster.gpusPerNode) || cluster.gpusPerNode < 1)) {
    error("positive-integer-sizes", `gpus_per_node must be a positive integer, got ${cluster.gpusPerNode}`);
  }
  if (out.length > 0) return out;

  // Rule 1: attention mesh.
  const attention = tp * pp * cp;
  const dp = world % attention === 0 ? world / attention : undefined;
  if (dp === undefined) {
    error(
      "world-divisible-by-tp-pp-cp",
      `world size ${world} is not divisible by TP*PP*CP = ${attention} (tensor_model_parallel_size ${tp} x pipeline_model_parallel_size ${pp} x context_parallel_size ${cp})`,
    );
  }

  // Rule 2: expert mesh under MoE parallel folding.
  const expert = etp * ep * pp;
  if (world % expert !== 0) {
    error(
      "world-divisible-by-etp-ep-pp",
      `world size ${world} is not divisible by ETP*EP*PP = ${expert} (expert_tensor_parallel_size ${etp}${etpSet ? "" : " (defaults to tensor_model_parallel_size)"} x expert_model_parallel_size ${ep} x pipeline_model_parallel_size ${pp})`,
    );
  }

  if (layoutUnknown) return out;

  // Rule 3.
  if (config.num_experts % ep !== 0) {
    error(
      "experts-divisible-by-ep",
      `num_experts ${config.num_experts} is not divisible by expert_model_parallel_size ${ep}: each EP rank must host the same number of experts`,
    );
  }
  if (config.moe_router_topk > config.num_experts) {
    error("topk-within-experts", `moe_router_topk ${config.moe_router_topk} exceeds num_experts ${config.num_experts}`);
  }

  // Rule 4. With TP == 1 Megatron silently turns SP off, so --sequence-parallel there is harmless.
  if (tp > 1 && !config.sequence_parallel) {
    error(
      "tp-requires-sequence-parallel",
      `tensor_model_parallel_size ${tp} > 1 with MoE requires --sequence-parallel (Megatron's MoE layer raises during training without it)`,
    );
  }

  // Rule 5.
  if (etp > 1 && !config.disable_bias_linear) {
    error(
      "etp-requires-disable-bias-linear",
      `expert_tensor_parallel_size ${etp}${etpSet ? "" : " (defaults to tensor_model_parallel_size)"} > 1 requires --disable-bias-linear: Megatron supports bias in MoE only with ETP == 1`,
    );
  }

  // Rule 6 (only when both batch sizes are known; Megatron derives GBS = MBS*DP when it is unset).
  const mbs = config.micro_batch_size;
  const gbs = config.global_batch_size;
  if (dp !== undefined && mbs !== undefined && gbs !== undefined) {
    if (!Number.isInteger(mbs) || mbs < 1 || !Number.isInteger(gbs) || gbs < 1) {
      error("positive-integer-sizes", `micro_batch_size ${mbs} and global_batch_size ${gbs} must be positive integers`);
    } else if (gbs % (mbs * dp) !== 0) {
      error(
        "global-batch-divisible-by-micro-batch-dp",
        `global_batch_size ${gbs} is not divisible by micro_batch_size ${mbs} x DP ${dp} = ${mbs * dp} (DP = world size ${world} / TP*PP*CP ${attention})`,
      );
    }
  }

  // Rule 7. Megatron treats a negative capacity factor as "no capacity factor".
  const cf = config.moe_expert_capacity_factor;
  const hasCapacity = cf !== undefined && cf >= 0;
  if (config.moe_pad_expert_input_to_capacity && !hasCapacity) {
    error(
      "pad-requires-capacity-factor",
      `--moe-pad-expert-input-to-capacity requires --moe-expert-capacity-factor (moe_expert_capacity_factor is ${cf === undefined ? "not set" : cf})`,
    );
  }
  if (hasCapacity) {
    // The flag takes one or more types (one per layer group); each must allow token dropping.
    const types = (config.moe_router_load_balancing_type ?? "aux_loss").split(/[\s,]+/).filter((t) => t !== "");
    const wrong = types.filter((t) => !(CAPACITY_LOAD_BALANCING_TYPES as readonly string[]).includes(t));
    if (wrong.length > 0) {
      error(
        "capacity-factor-requires-aux-loss-type",
        `moe_expert_capacity_factor ${cf} works only with moe_router_load_balancing_type ${CAPACITY_LOAD_BALANCING_TYPES.join(", ")}; got ${wrong.join(", ")}`,
      );
    }
  }

  // Pipeline split and layer pattern, as Megatron checks them when building the model.
  try {
    pipelineLayout(config);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    // An explicit layout string is valid Megatron; we just cannot check it, which is not the user's error.
    if (e.field === "pipeline_model_parallel_layout") warning("pipeline-split-unchecked", e.message);
    else error("pipeline-split", e.message);
  }
  try {
    parseMoeLayerFreq(config.moe_layer_freq, config.num_layers);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    error("moe-layer-freq", e.message);
  }

  // Rule 8: guidance, not a start-up failure.
  const gpn = cluster.gpusPerNode;
  if (gpn !== undefined) {
    if (ep * etp > gpn) {
      warning(
        "ep-etp-within-nvlink-domain",
        `EP*ETP = ${ep * etp} (expert_model_parallel_size ${ep} x expert_tensor_parallel_size ${etp}) exceeds ${gpn} GPUs per node: expert all-to-all leaves the NVLink domain; prefer PP to scale across nodes`,
      );
    }
    if (tp > gpn) {
      warning(
        "tp-within-nvlink-domain",
        `tensor_model_parallel_size ${tp} exceeds ${gpn} GPUs per node: TP communication leaves the NVLink domain; prefer PP to scale across nodes`,
      );
    }
  }
  return out;
}
