/**
 * A RunConfig from a pasted Megatron launch (command line, launch script or argv array).
 *
 * Flag names follow megatron/training/arguments.py: most MoE and parallel flags are generated from
 * the TransformerConfig / ModelParallelConfig dataclasses (megatron/training/argument_utils.py
 * `ArgumentGroupFactory`: `--field-name`, booleans are store_true, default-True booleans become
 * `--no-x`/`--disable-x`), plus hand-written ones (`--num-experts`, `--moe-layer-freq`). Megatron
 * parses with allow_abbrev=False and has no aliases for the fields we type, except the two whose flag
 * differs from the field: `--fp8-format` sets `fp8`, `--disable-bias-linear` clears `add_bias_linear`
 * (kept here as `disable_bias_linear`, as in RunConfig). `--recompute-activations` means
 * `recompute_granularity selective`, as validate_args does.
 *
 * Everything else is kept by its flag name (dashes -> underscores) in `config.extra` as text; flags
 * with several values are joined with spaces; flags without a value are "true". Values that still hold
 * an unexpanded shell variable ($VAR, $1, $(...)) stay as text in `extra` and are listed in
 * `unexpanded`; a typed field with such a value keeps Megatron's default (or throws when it has none).
 */
import { InvalidInput } from "./errors";
import { expandShellScript } from "./expandShellScript";
import type { RunConfig } from "./types";

/** ParsedMegatronArgs: the configuration found in a launch command and what could not be interpreted. */
export interface ParsedMegatronArgs {
  config: RunConfig;
  /** Tokens that are neither a flag nor a flag's value (stray positionals after the script). */
  unknown: string[];
  /** torchrun --nproc_per_node x --nnodes, when both are fixed numbers (nnodes defaults to 1). */
  worldSize?: number;
  /** torchrun --nproc_per_node. */
  gpusPerNode?: number;
  /** Argument names (underscored) whose value still contains a shell variable; their text is in config.extra. */
  unexpanded: string[];
}

const INT_FIELDS = new Set([
  "num_layers",
  "hidden_size",
  "seq_length",
  "micro_batch_size",
  "global_batch_size",
  "num_experts",
  "moe_router_topk",
  "moe_ffn_hidden_size",
  "moe_shared_expert_intermediate_size",
  "tensor_model_parallel_size",
  "pipeline_model_parallel_size",
  "num_layers_per_virtual_pipeline_stage",
  "context_parallel_size",
  "expert_model_parallel_size",
  "expert_tensor_parallel_size",
]);
const FLOAT_FIELDS = new Set(["moe_aux_loss_coeff", "moe_z_loss_coeff", "moe_expert_capacity_factor"]);
const STRING_FIELDS = new Set([
  "moe_router_load_balancing_type",
  "moe_token_dispatcher_type",
  "moe_token_drop_policy",
  "moe_layer_freq",
  "recompute_granularity",
  "fp8",
]);
const BOOL_FIELDS = new Set([
  "moe_pad_expert_input_to_capacity",
  "moe_grouped_gemm",
  "moe_router_enable_expert_bias",
  "moe_layer_recompute",
  "sequence_parallel",
  "disable_bias_linear",
  "bf16",
  "fp16",
]);
const LIST_FIELDS = new Set(["recompute_modules"]);
/** Flags that take several values in Megatron (nargs="+"). */
const MULTI_VALUE = new Set(["recompute_modules", "moe_router_load_balancing_type", "moe_aux_loss_coeff"]);
/** store_true flags outside RunConfig that are common in MoE launch scripts: they never take a value. */
const OTHER_SWITCHES = new Set([
  "use_distributed_optimizer",
  "overlap_grad_reduce",
  "overlap_param_gather",
  "swiglu",
  "untie_embeddings_and_output_weights",
  "group_query_attention",
  "recompute_activations",
  "moe_per_layer_logging",
  "moe_permute_fusion",
  "moe_shared_expert_overlap",
  "moe_use_upcycling",
  "use_mcore_models",
  "tp_comm_overlap",
  "use_flash_attn",
  "account_for_embedding_in_pipeline_split",
  "account_for_loss_in_pipeline_split",
  "mock_data",
]);
const ALIASES: Record<string, string> = { fp8_format: "fp8" };
/** Megatron fields without a default: a run cannot be understood without them. */
const REQUIRED = ["num_layers", "num_experts"] as const;

const isFlag = (token: string): boolean => /^--?[A-Za-z]/.test(token);
const isSwitch = (name: string): boolean =>
  BOOL_FIELDS.has(name) || OTHER_SWITCHES.has(name) || name.startsWith("no_") || name.startsWith("disable_");
const hasShellVariable = (value: string): boolean => /\$|`/.test(value);

function parseInt10(name: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw new InvalidInput(`--${name.replace(/_/g, "-")} expects an integer, got "${value}"`, name);
  return Number(value.trim());
}

function parseFloat10(name: string, value: string): number {
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidInput(`--${name.replace(/_/g, "-")} expects a number, got "${value}"`, name);
  return n;
}

/** Splits argv at the training script: launcher (torchrun / python -m torch.distributed.run) flags before it, Megatron flags after. */
function splitAtScript(argv: string[]): { launcher: string[]; args: string[] } {
  const script = argv.findIndex((a) => /\.py$/.test(a) && !isFlag(a));
  if (script >= 0) return { launcher: argv.slice(0, script), args: argv.slice(script + 1) };
  const firstFlag = argv.findIndex(isFlag);
  const launcherish = argv.length > 0 && /(^|\/)(torchrun|python[0-9.]*|srun|mpirun|deepspeed)$/.test(argv[0]);
  // No script: either bare Megatron flags, or a launcher line we cannot split reliably.
  return launcherish ? { launcher: argv, args: [] } : { launcher: [], args: firstFlag < 0 ? argv : argv.slice(firstFlag) };
}

function launcherValue(launcher: string[], names: string[]): string | undefined {
  let found: string | undefined;
  launcher.forEach((token, i) => {
    for (const name of names) {
      if (token === name && i + 1 < launcher.length) found = launcher[i + 1];
      else if (token.startsWith(name + "=")) found = token.slice(name.length + 1);
    }
  });
  return found;
}

/** parseMegatronArgs reads a pasted Megatron launch command, launch script or argv array into a RunConfig, keeping uninterpreted flags in config.extra. */
export function parseMegatronArgs(input: string | string[]): ParsedMegatronArgs {
  const argv = typeof input === "string" ? expandShellScript(input).argv : [...input];
  const { launcher, args } = splitAtScript(argv);
  const unknown: string[] = [];
  const unexpanded: string[] = [];
  const extra: Record<string, string> = {};
  const typed: Record<string, number | string | boolean | string[]> = {};

  // Leading tokens that are not flags are not ours (e.g. a module name after "-m").
  let i = 0;
  while (i < args.length && !isFlag(args[i])) unknown.push(args[i++]);
  while (i < args.length) {
    const token = args[i++];
    const eq = token.indexOf("=");
    const rawName = (eq >= 0 ? token.slice(0, eq) : token).replace(/^--?/, "");
    const flagName = rawName.replace(/-/g, "_");
    const name = ALIASES[flagName] ?? flagName;
    let values: string[];
    if (eq >= 0) values = [token.slice(eq + 1)];
    else if (isSwitch(flagName)) values = [];
    else {
      values = [];
      while (i < args.length && (!isFlag(args[i]) || /^-\d/.test(args[i]))) values.push(args[i++]);
    }
    // A switch takes no value: anything after it that is not a flag is a stray token.
    if (eq < 0 && isSwitch(flagName)) {
      while (i < args.length && !isFlag(args[i])) unknown.push(args[i++]);
    }
    const text = values.join(" ");

    if (BOOL_FIELDS.has(name)) {
      if (eq >= 0) throw new InvalidInput(`--${rawName} is a switch and takes no value, got "${text}"`, name);
      typed[name] = true;
      continue;
    }
    if (values.length === 0 && (INT_FIELDS.has(name) || FLOAT_FIELDS.has(name) || STRING_FIELDS.has(name) || LIST_FIELDS.has(name))) {
      throw new InvalidInput(`--${rawName} expects a value`, name);
    }
    if (values.length > 1 && (INT_FIELDS.has(name) || FLOAT_FIELDS.has(name) || STRING_FIELDS.has(name)) && !MULTI_VALUE.has(name)) {
      throw new InvalidInput(`--${rawName} takes one value, got "${text}"`, name);
    }
    if (hasShellVariable(text)) {
      extra[name] = text;
      unexpanded.push(name);
      continue;
    }
    if (INT_FIELDS.has(name)) typed[name] = parseInt10(name, text);
    else if (FLOAT_FIELDS.has(name)) {
      // moe_aux_loss_coeff may hold one coefficient per load-balancing type: only a single one is a number.
      if (values.length > 1) extra[name] = text;
      else typed[name] = parseFloat10(name, text);
    } else if (STRING_FIELDS.has(name)) typed[name] = text;
    else if (LIST_FIELDS.has(name)) typed[name] = values;
    else {
      extra[name] = values.length === 0 ? "true" : text;
      // validate_args: --recompute-activations is shorthand for selective recomputation.
      if (name === "recompute_activations") typed.recompute_granularity = "selective";
    }
  }

  for (const field of REQUIRED) {
    if (typed[field] === undefined) {
      const why = unexpanded.includes(field) ? `its value "${extra[field]}" is an unexpanded shell variable` : "it is missing";
      throw new InvalidInput(
        `--${field.replace(/_/g, "-")} is required to monitor an MoE run, but ${why}${field === "num_experts" && !unexpanded.includes(field) ? " (not an MoE run?)" : ""}`,
        field,
      );
    }
  }

  const config: RunConfig = {
    ...(typed as Partial<RunConfig>),
    num_layers: typed.num_layers as number,
    num_experts: typed.num_experts as number,
    // Megatron's defaults (TransformerConfig / ModelParallelConfig).
    moe_router_topk: (typed.moe_router_topk as number | undefined) ?? 2,
    tensor_model_parallel_size: (typed.tensor_model_parallel_size as number | undefined) ?? 1,
    pipeline_model_parallel_size: (typed.pipeline_model_parallel_size as number | undefined) ?? 1,
    context_parallel_size: (typed.context_parallel_size as number | undefined) ?? 1,
    expert_model_parallel_size: (typed.expert_model_parallel_size as number | undefined) ?? 1,
  };
  if (Object.keys(extra).length > 0) config.extra = extra;

  const result: ParsedMegatronArgs = { config, unknown, unexpanded };
  const nproc = launcherValue(launcher, ["--nproc_per_node", "--nproc-per-node"]);
  const nnodes = launcherValue(launcher, ["--nnodes"]);
  if (nproc !== undefined && hasShellVariable(nproc)) unexpanded.push("nproc_per_node");
  if (nnodes !== undefined && hasShellVariable(nnodes)) unexpanded.push("nnodes");
  // "gpu"/"auto" and elastic ranges ("1:4") do not fix the world size.
  const perNode = nproc !== undefined && /^\d+$/.test(nproc) ? Number(nproc) : undefined;
  const nodes = nnodes === undefined ? 1 : /^\d+$/.test(nnodes) ? Number(nnodes) : undefined;
  if (perNode !== undefined && perNode > 0) {
    result.gpusPerNode = perNode;
    if (nodes !== undefined && nodes > 0) result.worldSize = perNode * nodes;
  }
  return result;
}
