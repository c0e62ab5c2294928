import type { RunConfig } from "./types";

/** ConfigGroup: the panel's sections. */
export type ConfigGroup = "MoE" | "Parallelism" | "Model" | "Precision & recompute" | "Other";

/** ConfigRow: one Megatron argument as shown (name kept exactly as Megatron spells it). */
export interface ConfigRow {
  name: string;
  value: string;
  group: ConfigGroup;
  /** True when the value is Megatron's default filled in by us, not sent by the run. */
  defaulted: boolean;
}

const GROUPS: Array<[ConfigGroup, Array<keyof RunConfig>]> = [
  [
    "MoE",
    [
      "num_experts",
      "moe_router_topk",
      "moe_router_load_balancing_type",
      "moe_aux_loss_coeff",
      "moe_z_loss_coeff",
      "moe_token_dispatcher_type",
      "moe_expert_capacity_factor",
      "moe_pad_expert_input_to_capacity",
      "moe_token_drop_policy",
      "moe_layer_freq",
      "moe_ffn_hidden_size",
      "moe_shared_expert_intermediate_size",
      "moe_grouped_gemm",
      "moe_router_enable_expert_bias",
    ],
  ],
  [
    "Parallelism",
    [
      "tensor_model_parallel_size",
      "pipeline_model_parallel_size",
      "num_layers_per_virtual_pipeline_stage",
      "context_parallel_size",
      "expert_model_parallel_size",
      "expert_tensor_parallel_size",
      "sequence_parallel",
      "disable_bias_linear",
    ],
  ],
  ["Model", ["num_layers", "hidden_size", "seq_length", "micro_batch_size", "global_batch_size"]],
  ["Precision & recompute", ["bf16", "fp16", "fp8", "moe_layer_recompute", "recompute_granularity", "recompute_modules"]],
];

/** Megatron's defaults for arguments a run may leave unset, shown greyed. */
const DEFAULTS: Partial<Record<keyof RunConfig, (c: RunConfig) => unknown>> = {
  moe_router_load_balancing_type: () => "aux_loss",
  moe_token_drop_policy: () => "probs",
  moe_layer_freq: () => "1",
  expert_tensor_parallel_size: (c) => c.tensor_model_parallel_size,
};

/** formatConfigValue renders an argument value the way it would be written on Megatron's command line. */
export function formatConfigValue(v: unknown): string {
  if (v == null) return "";
  if (Array.isArray(v)) return v.map(String).join(" ");
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(v);
  return String(v);
}

/** configRows lists a run's arguments by Megatron name, grouped, with unset defaults marked. */
export function configRows(config: RunConfig): ConfigRow[] {
  const rows: ConfigRow[] = [];
  const seen = new Set<string>(["extra"]);
  for (const [group, names] of GROUPS) {
    for (const name of names) {
      seen.add(name);
      const raw = config[name];
      if (raw !== undefined && raw !== null) {
        rows.push({ name, value: formatConfigValue(raw), group, defaulted: false });
      } else if (DEFAULTS[name]) {
        rows.push({ name, value: formatConfigValue(DEFAULTS[name]!(config)), group, defaulted: true });
      }
    }
  }
  for (const [name, raw] of Object.entries(config)) {
    if (seen.has(name) || raw === undefined || raw === null) continue;
    rows.push({ name, value: formatConfigValue(raw), group: "Other", defaulted: false });
  }
  for (const [name, raw] of Object.entries(config.extra ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    rows.push({ name, value: raw, group: "Other", defaulted: false });
  }
  return rows;
}
