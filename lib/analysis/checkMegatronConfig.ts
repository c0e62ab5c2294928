/**
 * One call from a pasted Megatron launch line (or argv, or launch script) to what a user wants to
 * know before launching: the configuration under Megatron's names, the sizes Megatron derives, which
 * layers are MoE on which pipeline stage, and every constraint the layout breaks. The CLI
 * (`moe-telemetry check-config`) and POST /api/config/check both call it.
 */
import { deriveParallelSizes, type ParallelSizes } from "./deriveParallelSizes";
import { MoeTelemetryError } from "./errors";
import { parseMegatronArgs } from "./parseMegatronArgs";
import { moeLayerNumbers } from "./parseMoeLayerFreq";
import { stageOfLayer } from "./stageOfLayer";
import type { RunConfig } from "./types";
import { validateRunConfig, type ConfigViolation } from "./validateRunConfig";

/** ConfigCheck: the result of checkMegatronConfig. */
export interface ConfigCheck {
  config: RunConfig;
  worldSize: number | null;
  gpusPerNode: number | null;
  /** Null when the layout is too broken to derive them (the violations say why). */
  sizes: ParallelSizes | null;
  layers: Array<{ layer: number; moe: boolean; stage: number | null }>;
  violations: ConfigViolation[];
  /** Arguments whose value still holds a shell variable ($VAR), so Megatron's default was assumed. */
  unexpanded: string[];
  /** Tokens that were neither a flag nor a flag's value. */
  unknown: string[];
  ok: boolean;
}

/** checkMegatronConfig parses, validates and derives; cluster values given here override the command line's. */
export function checkMegatronConfig(input: string | string[], cluster: { worldSize?: number; gpusPerNode?: number } = {}): ConfigCheck {
  const parsed = parseMegatronArgs(input);
  const worldSize = cluster.worldSize ?? parsed.worldSize ?? null;
  const gpusPerNode = cluster.gpusPerNode ?? parsed.gpusPerNode ?? null;
  const violations: ConfigViolation[] =
    worldSize === null
      ? [{ rule: "world-size-unknown", severity: "error", message: "the world size is unknown: pass it (--world-size) or include torchrun's --nproc_per_node and --nnodes" }]
      : validateRunConfig(parsed.config, { worldSize, ...(gpusPerNode === null ? {} : { gpusPerNode }) });
  let sizes: ParallelSizes | null = null;
  if (worldSize !== null) {
    try {
      sizes = deriveParallelSizes(parsed.config, worldSize);
    } catch (err) {
      if (!(err instanceof MoeTelemetryError)) throw err; // already reported as a violation
    }
  }
  let moe = new Set<number>();
  try {
    moe = new Set(moeLayerNumbers(parsed.config));
  } catch (err) {
    if (!(err instanceof MoeTelemetryError)) throw err;
  }
  const layers = Array.from({ length: parsed.config.num_layers }, (_, i) => {
    const layer = i + 1;
    let stage: number | null = null;
    try {
      stage = stageOfLayer(parsed.config, layer).pp;
    } catch (err) {
      if (!(err instanceof MoeTelemetryError)) throw err;
    }
    return { layer, moe: moe.has(layer), stage };
  });
  return {
    config: parsed.config,
    worldSize,
    gpusPerNode,
    sizes,
    layers,
    violations,
    unexpanded: parsed.unexpanded,
    unknown: parsed.unknown,
    ok: violations.every((v) => v.severity !== "error"),
  };
}
