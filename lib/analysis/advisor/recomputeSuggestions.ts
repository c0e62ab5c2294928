/**
 * Recompute the MoE layer in the backward pass instead of keeping its activations (the seed's
 * "--moe-layer-recompute", which current Megatron deprecates in favour of `--recompute-granularity
 * selective --recompute-modules moe`; megatron/core/transformer/transformer_config.py still accepts the
 * old flag and maps it to the new form, so we emit the new one and mention the old for old releases).
 *
 * Existing selective modules are kept: with `selective` and no `--recompute-modules` Megatron recomputes
 * ["core_attn"], so adding `moe` alone would silently stop that. `--recompute-method` must be unset with
 * selective recomputation (megatron/training/arguments.py), so it is removed if present.
 *
 * Memory estimate: the fitted per-received-token slope is taken to be the MoE layers' activation
 * memory. With the MoE layer checkpointed, the rank keeps only each MoE layer's input and rebuilds one
 * layer's activations at a time in the backward pass, so its activation term shrinks from all of its
 * observed MoE layers to one: received after = received / (MoE layers on its stage). This ignores the
 * kept inputs (one hidden vector per routed token) and treats every in-flight micro-batch alike, so it
 * leans optimistic for the saving; the cost is one more forward of every MoE layer, including its
 * dispatch and combine all-to-all.
 */
import { buildSuggestion } from "./buildSuggestion";
import type { AdvisorContext } from "./createAdvisorContext";
import { memorySentence } from "./memorySentence";
import { predictPeakMemory } from "./predictPeakMemory";
import type { Suggestion } from "./types";
import { recomputesMoe } from "./validateSuggestion";

/** recomputeSuggestions proposes recomputing the MoE layer (selective recompute with module moe) with a memory estimate, unless the run already recomputes it. */
export function recomputeSuggestions(ctx: AdvisorContext): Suggestion[] {
  const { config } = ctx;
  if (recomputesMoe(config)) {
    ctx.notes.push("the MoE layer is already recomputed: no recomputation suggestion");
    return [];
  }
  if (config.recompute_granularity === "full") {
    ctx.notes.push("full recomputation is on, which already covers the MoE layer: no recomputation suggestion");
    return [];
  }
  const existing = config.recompute_granularity === "selective" ? (config.recompute_modules ?? ["core_attn"]) : [];
  const modules = [...existing.filter((m) => m !== "moe"), "moe"];
  const configAfter = { ...config, recompute_granularity: "selective", recompute_modules: modules };
  const set: Array<[string, string | null]> = [
    ["--recompute-granularity", "selective"],
    ["--recompute-modules", modules.join(" ")],
  ];
  if (config.extra?.recompute_method !== undefined) {
    configAfter.extra = Object.fromEntries(Object.entries(config.extra).filter(([k]) => k !== "recompute_method"));
    set.push(["--recompute-method", null]);
  }

  const after = new Map<number, number>();
  for (const [rank, received] of ctx.receivedNow) {
    const layers = ctx.layersPerStage.get(ctx.coordsNow.get(rank)?.pp ?? -1) ?? 0;
    if (layers > 0) after.set(rank, received / layers);
  }
  const peaks = predictPeakMemory(ctx.memoryModel, ctx.latest, ctx.receivedNow, after);
  const saving = peaks.worstBefore && peaks.worstAfter && peaks.ranksPredicted > 0 ? peaks.worstBefore.bytes - peaks.worstAfter.bytes : null;
  const rationale = [
    "Recomputes each MoE layer (router, dispatch, experts, combine) in the backward pass instead of keeping its activations, which grow with the tokens a rank receives and are what an imbalanced router inflates.",
    memorySentence(ctx, peaks.worstBefore?.bytes ?? null, peaks.ranksPredicted > 0 ? (peaks.worstAfter?.bytes ?? null) : null, peaks.ranksPredicted),
    ctx.memoryModel ? "Estimate: the fitted per-token slope is treated as MoE activation memory, of which one layer's worth remains while recomputing." : "",
    existing.length > 0 ? `Keeps the modules already recomputed (${existing.join(", ")}).` : "",
    "On Megatron-Core releases without --recompute-modules, use the deprecated --moe-layer-recompute instead.",
    "Temporary: remove once the token distribution is stable.",
  ]
    .filter((s) => s !== "")
    .join(" ");
  return [
    buildSuggestion(ctx, {
      id: "recompute:moe",
      kind: "recompute",
      title: "Recompute the MoE layer",
      configAfter,
      set,
      rationale,
      cost: "one extra forward of every MoE layer per step in the backward pass, including a second dispatch and combine all-to-all",
      numbers: {
        recomputeModules: modules.join(" "),
        predictedPeakBytesBefore: peaks.worstBefore?.bytes ?? null,
        predictedPeakBytesAfter: peaks.ranksPredicted > 0 ? (peaks.worstAfter?.bytes ?? null) : null,
        predictedSavingBytes: saving,
        deprecatedFlag: "--moe-layer-recompute",
      },
      // One option of its kind; its score only matters against other kinds' order, which is fixed.
      score: saving !== null && ctx.input.gpuMemoryBytes > 0 ? (100 * saving) / ctx.input.gpuMemoryBytes : 0,
    }),
  ];
}
