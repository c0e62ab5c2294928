/**
 * Megatron launch flags for a RunConfig, for runs registered without their command line: the advisor
 * still needs something to express "change this flag" against. The spelling is Megatron's
 * (megatron/training/argument_utils.py: `--` + field name with `_` -> `-`, booleans as store_true
 * switches), with the two fields whose flag differs from the name: `fp8` is `--fp8-format`, and
 * `disable_bias_linear` is `--disable-bias-linear` (it clears `add_bias_linear`). Extra arguments kept as
 * text are emitted as they were parsed ("true" means a switch). parseMegatronArgs reads the result back
 * to the same configuration.
 */
import type { RunConfig } from "../types";

const FLAG_OF: Record<string, string> = { fp8: "--fp8-format" };

/** flagOf returns the Megatron flag that sets a RunConfig field or extra argument. */
export function flagOf(field: string): string {
  return FLAG_OF[field] ?? `--${field.replace(/_/g, "-")}`;
}

/** configToArgs renders a RunConfig as Megatron launch flags (one flag and its values per entry group), in RunConfig field order, extra arguments last. */
export function configToArgs(config: RunConfig): string[] {
  const out: string[] = [];
  for (const [field, value] of Object.entries(config)) {
    if (field === "extra" || value === undefined || value === null) continue;
    const flag = flagOf(field);
    if (typeof value === "boolean") {
      if (value) out.push(flag);
    } else if (Array.isArray(value)) {
      if (value.length > 0) out.push(flag, ...value.map(String));
    } else out.push(flag, String(value));
  }
  for (const [name, text] of Object.entries(config.extra ?? {})) {
    const flag = flagOf(name);
    if (text === "true") out.push(flag);
    else out.push(flag, ...text.split(/\s+/).filter((t) => t !== ""));
  }
  return out;
}
