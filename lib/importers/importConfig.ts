/**
 * The run configuration of an imported run: from the arguments block a Megatron log printed, from a
 * launch script the user gives, and from explicit overrides (later wins). Pure.
 */
import { InvalidInput } from "../analysis/errors";
import { parseMegatronArgs } from "../analysis/parseMegatronArgs";
import type { RunConfig } from "../analysis/types";

/** ImportOverrides: command-line values for what the input does not say. */
export interface ImportOverrides {
  experts?: number;
  layers?: number;
  topk?: number;
  worldSize?: number;
}

/** argsBlockToArgv turns Megatron's printed `name ... value` arguments into a command line. */
export function argsBlockToArgv(args: Record<string, string>): string[] {
  const argv: string[] = [];
  for (const [name, raw] of Object.entries(args)) {
    const value = raw.trim();
    const flag = `--${name.replace(/_/g, "-")}`;
    if (value === "None" || value === "") continue;
    if (value === "True") argv.push(flag);
    else if (value === "False") continue;
    else if (/^\[.*\]$/.test(value)) {
      // Python lists ('[\'moe\']', '[1, 2]'): a list flag with several values.
      const items = value.slice(1, -1).split(",").map((x) => x.trim().replace(/^'(.*)'$/, "$1")).filter(Boolean);
      if (items.length) argv.push(flag, ...items);
    } else argv.push(flag, value);
  }
  return argv;
}

/**
 * resolveImportConfig combines the sources and checks that a MoE configuration came out. When no source says
 * anything about the MoE layout (a pasted log excerpt without Megatron's arguments block, no --config and no
 * --layers/--experts/--topk), the layout is marked unknown (layers, experts and top-k 0: `moeLayoutUnknown`)
 * and the run-level series are imported anyway; a layout known only in part is still an error naming what is missing.
 */
export function resolveImportConfig(
  sources: { argsBlock?: Record<string, string> | null; launchScript?: string },
  overrides: ImportOverrides,
): { config: RunConfig; worldSize: number; commandLine: string[]; layoutKnown: boolean } {
  const argv = sources.argsBlock ? argsBlockToArgv(sources.argsBlock) : [];
  const fromBlock = argv.length ? parseMegatronArgs(argv) : null;
  const fromScript = sources.launchScript ? parseMegatronArgs(sources.launchScript) : null;
  const base = fromScript?.config ?? fromBlock?.config;
  const config: RunConfig = {
    num_layers: 0,
    num_experts: 0,
    moe_router_topk: 0,
    tensor_model_parallel_size: 1,
    pipeline_model_parallel_size: 1,
    context_parallel_size: 1,
    expert_model_parallel_size: 1,
    ...(base ?? {}),
  };
  if (overrides.experts) config.num_experts = overrides.experts;
  if (overrides.layers) config.num_layers = overrides.layers;
  if (overrides.topk) config.moe_router_topk = overrides.topk;
  const missing = (["num_layers", "num_experts", "moe_router_topk"] as const).filter((k) => !(config[k] > 0));
  const saysNothing = base === undefined && !overrides.experts && !overrides.layers && !overrides.topk;
  if (missing.length && saysNothing) {
    const unknown = { ...config, num_layers: 0, num_experts: 0, moe_router_topk: 0 };
    return { config: unknown, worldSize: overrides.worldSize ?? minimalWorld(unknown), commandLine: argv, layoutKnown: false };
  }
  if (missing.length) {
    throw new InvalidInput(
      `the input does not say ${missing.join(", ")}: pass --config <launch script> (or the Megatron command line), or --layers/--experts/--topk`,
      missing[0],
    );
  }
  const printedWorld = sources.argsBlock?.world_size ? Number(sources.argsBlock.world_size) : undefined;
  const worldSize = overrides.worldSize ?? fromScript?.worldSize ?? (Number.isInteger(printedWorld) ? printedWorld : undefined) ?? minimalWorld(config);
  return { config, worldSize, commandLine: fromScript ? [] : argv, layoutKnown: true };
}

/** The smallest world the layout fits in, when nothing says how many GPUs there were. */
function minimalWorld(c: RunConfig): number {
  const attention = c.tensor_model_parallel_size * c.pipeline_model_parallel_size * c.context_parallel_size;
  const expert = (c.expert_tensor_parallel_size ?? c.tensor_model_parallel_size) * c.expert_model_parallel_size * c.pipeline_model_parallel_size;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return (attention * expert) / gcd(attention, expert);
}
