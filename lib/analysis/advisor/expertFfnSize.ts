/**
 * The routed experts' MLP width. Megatron's validate_args defaults moe_ffn_hidden_size to
 * ffn_hidden_size, which RunConfig keeps in `extra` when the launch set it.
 */
import { configExtra } from "../configExtra";
import { InvalidInput } from "../errors";
import type { RunConfig } from "../types";

/** expertFfnSize returns the routed experts' MLP hidden size (moe_ffn_hidden_size, else ffn_hidden_size), undefined when unknown or not a number (e.g. an unexpanded shell variable). */
export function expertFfnSize(config: RunConfig): number | undefined {
  if (config.moe_ffn_hidden_size !== undefined) return config.moe_ffn_hidden_size;
  try {
    return configExtra(config, "ffn_hidden_size");
  } catch (e) {
    if (e instanceof InvalidInput) return undefined;
    throw e;
  }
}
