/**
 * Typed reads of RunConfig.extra, where Megatron arguments without a RunConfig field live as text
 * (for example decoder_first_pipeline_num_layers, num_virtual_stages_per_pipeline_rank).
 */
import { InvalidInput } from "./errors";
import type { RunConfig } from "./types";

/** configExtra reads an integer argument from config.extra; undefined when absent, InvalidInput when not an integer. */
export function configExtra(config: RunConfig, name: string): number | undefined {
  const raw = config.extra?.[name];
  if (raw === undefined) return undefined;
  const text = raw.trim();
  // "None" is how a Python default prints when a config is dumped from a running job.
  if (text === "" || text === "None") return undefined;
  if (!/^[+-]?\d+$/.test(text)) throw new InvalidInput(`${name} must be an integer, got "${raw}"`, name);
  return Number(text);
}

/** configExtraFlag reads a store_true argument from config.extra: present and not "false"/"0"/"None" means set. */
export function configExtraFlag(config: RunConfig, name: string): boolean {
  const raw = config.extra?.[name];
  if (raw === undefined) return false;
  return !["false", "0", "none", "no"].includes(raw.trim().toLowerCase());
}
