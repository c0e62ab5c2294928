import { describe, expect, it } from "vitest";
import { parseMegatronArgs } from "../parseMegatronArgs";
import { mixtral8x22b, mixtral8x7b, small, withConfig } from "../testdata/configs";
import type { RunConfig } from "../types";
import { validateRunConfig } from "../validateRunConfig";
import { adviseMitigations, type AdvisorInput, type AdvisorResult, type HistoryPoint } from "./adviseMitigations";
import { configToArgs } from "./configToArgs";
import { memoryOnLine, observeLayers, receivedByRank, seededRandom } from "./testdata/observations";
import { validateSuggestion } from "./validateSuggestion";

const GiB = 2 ** 30;
const skew8 = [6, 1.5, 1, 1, 1, 1, 0.5, 0.5];
const layerNumbers = (config: RunConfig) => Array.from({ length: config.num_layers }, (_, i) => i + 1);

/** An imbalanced early-training input for `config` with memory on a known line. */
function imbalancedInput(config: RunConfig, worldSize: number, patch: Partial<AdvisorInput> = {}): AdvisorInput {
  const layers = observeLayers(config, worldSize, { layers: layerNumbers(config), tokens: 4096, microBatches: 4, weights: () => skew8 });
  return {
    config,
    worldSize,
    gpusPerNode: 8,
    gpuMemoryBytes: 80 * GiB,
    commandLine: configToArgs(config),
    step: 150,
    layers,
    memory: memoryOnLine(receivedByRank(config, layers), 150, { base: 30 * GiB, perToken: 150_000 }, 3),
    history: [],
    ...patch,
  };
}

/** Every suggestion is valid, and the launch arguments it produces parse back to a configuration Megatron accepts. */
function expectAllValid(result: AdvisorResult, worldSize: number) {
  for (const s of result.suggestions) {
    expect(s.valid, `${s.id}: ${JSON.stringify(s.violations)}`).toBe(true);
    expect(s.violations.filter((v) => v.severity === "error")).toEqual([]);
    const parsed = parseMegatronArgs(s.argsAfter).config;
    const errors = validateSuggestion(parsed, { worldSize, gpusPerNode: 8 }).filter((v) => v.severity === "error");
    expect(errors, `${s.id} argsAfter: ${s.argsAfter.join(" ")}`).toEqual([]);
    expect(s.argsAfter).not.toContain("--moe-token-capacity-factor");
    expect(s.diff === "").toBe(s.changes.length === 0);
  }
}

describe("adviseMitigations on the seed's reference mappings", () => {
  const refs = [
    { name: "Mixtral 8x7B, 64 GPUs TP1 EP8 PP4 VP8", config: mixtral8x7b, world: 64 },
    { name: "Mixtral 8x22B, 128 GPUs TP4 EP2 PP8 VP7", config: mixtral8x22b, world: 128 },
  ];
  for (const ref of refs) {
    it(`${ref.name} is a valid starting point`, () => {
      expect(validateRunConfig(ref.config, { worldSize: ref.world, gpusPerNode: 8 }).filter((v) => v.severity === "error")).toEqual([]);
    });
    it(`${ref.name}: every suggestion validates`, () => {
      const result = adviseMitigations(imbalancedInput(ref.config, ref.world));
      const kinds = new Set(result.suggestions.map((s) => s.kind));
      expect([...kinds]).toEqual(["etp-ep", "capacity", "recompute"]);
      expectAllValid(result, ref.world);
    });
  }

  it("8x7B: EP 8 -> 4, ETP 1 -> 2 comes first, as in the seed's advice", () => {
    const config = withConfig(mixtral8x7b, { extra: { ffn_hidden_size: "14336", swiglu: "true", use_distributed_optimizer: "true" } });
    const result = adviseMitigations(imbalancedInput(config, 64));
    const first = result.suggestions[0];
    expect(first.id).toBe("etp-ep:etp2-ep4");
    expect(first.title).toBe("EP 8 -> 4, ETP 1 -> 2");
    expect(first.changes).toEqual([
      { flag: "--expert-model-parallel-size", from: "8", to: "4" },
      { flag: "--expert-tensor-parallel-size", from: null, to: "2" },
    ]);
    expect(first.diff).toBe(
      ["--- launch arguments (current)", "+++ launch arguments (suggested)", "- --expert-model-parallel-size 8", "+ --expert-model-parallel-size 4", "+ --expert-tensor-parallel-size 2"].join("\n"),
    );
    expect(first.numbers.fitsNode).toBe("yes");
    expect(first.numbers.worstRatioAfter as number).toBeLessThan(first.numbers.worstRatioBefore as number);
    expect(first.numbers.predictedPeakBytesAfter as number).toBeLessThan(first.numbers.predictedPeakBytesBefore as number);
    expect(first.rationale).toMatch(/Memory: worst rank at ~\d+\.\d GiB of 80\.0 GiB today, ~\d+\.\d GiB after/);
    expect(first.cost).toMatch(/expert all-to-all over 4 ranks instead of 8; an all-gather and reduce-scatter of every received token over 2 ETP ranks/);
    // pairs that leave the node come after every pair that fits
    const etpEp = result.suggestions.filter((s) => s.kind === "etp-ep");
    const firstOutside = etpEp.findIndex((s) => s.numbers.fitsNode === "no");
    expect(firstOutside).toBeGreaterThan(0);
    expect(etpEp.slice(firstOutside).every((s) => s.numbers.fitsNode === "no")).toBe(true);
  });

  it("8x22B: ETP candidates keep EP x ETP x PP dividing the world and cap ETP at the node", () => {
    const result = adviseMitigations(imbalancedInput(mixtral8x22b, 128));
    const ids = result.suggestions.filter((s) => s.kind === "etp-ep").map((s) => s.id).sort();
    // ETP defaults to TP 4; EP <= 2, ETP in 4..8, 128 % (ETP x EP x 8) == 0
    expect(ids).toEqual(["etp-ep:etp4-ep1", "etp-ep:etp8-ep1", "etp-ep:etp8-ep2"]);
  });
});

describe("adviseMitigations capacity predictions", () => {
  // World 2, TP1 PP1, E 4, k 1, EP 2 (rank r is EP rank r): rank 0 routes [5,1,1,1], rank 1 [2,2,2,2] of T = 8
  const config = withConfig(small, { num_layers: 1, num_experts: 4, moe_router_topk: 1, expert_model_parallel_size: 2 });
  const input = (capacityFactors: number[], reports: Array<{ tokens: number; microBatches: number; counts: number[] }>): AdvisorInput => ({
    config,
    worldSize: 2,
    gpusPerNode: 8,
    gpuMemoryBytes: 80 * GiB,
    commandLine: [],
    step: 10,
    layers: [
      {
        layer: 1,
        reports: reports.map((r, rank) => ({
          rank,
          coords: { tp: 0, cp: 0, dp: rank, pp: 0, ep: rank, etp: 0, edp: 0 },
          tokens: r.tokens,
          microBatches: r.microBatches,
          tokensPerExpert: r.counts,
        })),
      },
    ],
    memory: [],
    history: [],
    options: { capacityFactors },
  });
  const cases = [
    // C = ceil(8 x 1 / 4 x cf): cf 1.0 -> 2 (rank 0 drops 3), 1.25 -> ceil(2.5) = 3 (drops 2), 2.0 -> 4 (drops 1); 16 assignments
    { cf: 1.0, dropFraction: 3 / 16, maxAfter: 7 },
    { cf: 1.25, dropFraction: 2 / 16, maxAfter: 8 },
    { cf: 2.0, dropFraction: 1 / 16, maxAfter: 9 },
  ];
  for (const c of cases) {
    it(`capacity factor ${c.cf}`, () => {
      const result = adviseMitigations(input([c.cf], [{ tokens: 8, microBatches: 1, counts: [5, 1, 1, 1] }, { tokens: 8, microBatches: 1, counts: [2, 2, 2, 2] }]));
      const s = result.suggestions.find((x) => x.id === `capacity:${c.cf === 1 ? "1.0" : c.cf === 2 ? "2.0" : c.cf}`)!;
      expect(s.numbers.dropFractionOverall).toBeCloseTo(c.dropFraction, 12);
      expect(s.numbers["dropFraction@L1"]).toBeCloseTo(c.dropFraction, 12);
      // max(c) / (T x k / E) = 5 / 2
      expect(s.numbers.capacityFactorForZeroDrops).toBe(2.5);
      // EP rank 0 hosts experts 0-1: today (5+1) + (2+2) = 10; after clipping rank 0's expert 0 at C
      expect(s.numbers.maxReceivedBefore).toBe(10);
      expect(s.numbers.maxReceivedAfter).toBe(c.maxAfter);
      expect(s.changes).toEqual([
        { flag: "--moe-expert-capacity-factor", from: null, to: c.cf === 1 ? "1.0" : c.cf === 2 ? "2.0" : String(c.cf) },
        { flag: "--moe-token-drop-policy", from: null, to: "probs" },
      ]);
    });
  }

  it("uses Megatron's IEEE order: T x k / E = 50 at cf 1.1 gives C = 56, not 55", () => {
    // T 200, k 1, E 4: rank 0 [60, 50, 50, 40] drops 60 - 56 = 4, rank 1 [100, 50, 30, 20] drops 44: 48 of 400
    // (with C = 55 it would be 5 + 45 = 50)
    const result = adviseMitigations(input([1.1], [{ tokens: 200, microBatches: 1, counts: [60, 50, 50, 40] }, { tokens: 200, microBatches: 1, counts: [100, 50, 30, 20] }]));
    const s = result.suggestions.find((x) => x.id === "capacity:1.1")!;
    expect(s.numbers.dropFractionOverall).toBeCloseTo(48 / 400, 12);
  });

  it("compares step sums with m x C when counts span several micro-batches", () => {
    // m = 2: C per micro-batch = ceil(4 x 1 / 4 x 1.0) = 1, step limit 2: the same 3 drops, flagged as an estimate
    const result = adviseMitigations(input([1.0], [{ tokens: 8, microBatches: 2, counts: [5, 1, 1, 1] }, { tokens: 8, microBatches: 2, counts: [2, 2, 2, 2] }]));
    const s = result.suggestions.find((x) => x.id === "capacity:1.0")!;
    expect(s.numbers.dropFractionOverall).toBeCloseTo(3 / 16, 12);
    expect(s.numbers.estimate).toBe("yes");
  });

  it("switches sinkhorn to aux_loss (with a coefficient) so the capacity factor is accepted", () => {
    const sinkhorn = withConfig(config, { moe_router_load_balancing_type: "sinkhorn" });
    const result = adviseMitigations({ ...input([1.0], [{ tokens: 8, microBatches: 1, counts: [5, 1, 1, 1] }, { tokens: 8, microBatches: 1, counts: [2, 2, 2, 2] }]), config: sinkhorn });
    const s = result.suggestions.find((x) => x.id === "capacity:1.0")!;
    expect(s.valid).toBe(true);
    expect(s.changes).toContainEqual({ flag: "--moe-router-load-balancing-type", from: "sinkhorn", to: "aux_loss" });
    expect(s.changes).toContainEqual({ flag: "--moe-aux-loss-coeff", from: null, to: "0.01" });
    expectAllValid(result, 2);
  });
});

describe("adviseMitigations around mitigations already in force", () => {
  // World 8, TP1 PP1: mitigated from EP 8 to EP 4 x ETP 2, capacity factor 1.0, MoE recomputation.
  const mitigated = withConfig(small, {
    expert_model_parallel_size: 4,
    expert_tensor_parallel_size: 2,
    disable_bias_linear: true,
    moe_expert_capacity_factor: 1.0,
    recompute_granularity: "selective",
    recompute_modules: ["moe"],
  });
  const balancedInput = (history: HistoryPoint[], step = 1000): AdvisorInput => {
    const layers = observeLayers(mitigated, 8, { layers: [1, 2, 3, 4, 5, 6, 7, 8], tokens: 1024, microBatches: 2, weights: () => [1, 1, 1, 1, 1, 1, 1, 1] });
    return {
      config: mitigated,
      worldSize: 8,
      gpusPerNode: 8,
      gpuMemoryBytes: 80 * GiB,
      commandLine: configToArgs(mitigated),
      step,
      layers,
      memory: [],
      history,
      options: { stableWindowSteps: 200 },
    };
  };
  const every10 = (from: number, to: number, v: { epImbalance: number | null; maxVio: number | null }) =>
    Array.from({ length: (to - from) / 10 + 1 }, (_, i) => ({ step: from + 10 * i, ...v }));
  const low = { epImbalance: 1.05, maxVio: 0.1 };
  const high = { epImbalance: 2.0, maxVio: 1.2 };

  it("offers no revert before the stable window has passed", () => {
    // last imbalanced step 840, so balanced since 841; the window (800, 1000] starts at 801: 40 more steps
    const result = adviseMitigations(balancedInput([...every10(500, 840, high), ...every10(850, 1000, low)]));
    expect(result.suggestions).toEqual([]);
    expect(result.notes.join("\n")).toMatch(/revert advice after ~40 more balanced step\(s\) of the 200-step window/);
  });

  it("offers every revert once the window is balanced", () => {
    const result = adviseMitigations(balancedInput([...every10(500, 790, high), ...every10(800, 1000, low)]));
    expect(result.suggestions.map((s) => s.id)).toEqual(["revert:etp1-ep8", "revert:dropless", "revert:recompute"]);
    const layout = result.suggestions[0];
    // ETP 1 equals TP 1 (Megatron's default), so the flag is removed rather than set
    expect(layout.changes).toEqual([
      { flag: "--expert-model-parallel-size", from: "4", to: "8" },
      { flag: "--expert-tensor-parallel-size", from: "2", to: null },
    ]);
    expect(layout.numbers.worstRatioAfter).toBe(1);
    expect(result.suggestions[1].changes).toEqual([
      { flag: "--moe-expert-capacity-factor", from: "1", to: null },
    ]);
    expect(result.suggestions[2].changes).toEqual([
      { flag: "--recompute-granularity", from: "selective", to: null },
      { flag: "--recompute-modules", from: "moe", to: null },
    ]);
    expectAllValid(result, 8);
  });

  it("offers no revert when the window holds one imbalanced step", () => {
    const history = [...every10(500, 1000, low)];
    history[40] = { step: 900, ...high };
    expect(adviseMitigations(balancedInput(history)).suggestions).toEqual([]);
  });

  it("says so when the run is healthy and nothing is mitigated", () => {
    const healthy = withConfig(small, { expert_model_parallel_size: 4 });
    const layers = observeLayers(healthy, 8, { layers: [1, 2], tokens: 1024, microBatches: 1, weights: () => [1, 1, 1, 1, 1, 1, 1, 1] });
    const result = adviseMitigations({ config: healthy, worldSize: 8, gpusPerNode: 8, gpuMemoryBytes: 80 * GiB, commandLine: [], step: 400, layers, memory: [], history: [] });
    expect(result.suggestions).toEqual([]);
    expect(result.notes.join("\n")).toMatch(/healthy at step 400 \(EP imbalance 1\.00x, MaxVio 0\.00\) and no temporary mitigation is in force/);
  });
});

describe("adviseMitigations router levers", () => {
  const config = withConfig(mixtral8x7b, {});
  const history = (to: number): HistoryPoint[] => Array.from({ length: to / 10 }, (_, i) => ({ step: 10 * (i + 1), epImbalance: 3, maxVio: 2 }));
  it("stay out during early training", () => {
    const result = adviseMitigations(imbalancedInput(config, 64, { step: 300, history: history(300) }));
    expect(result.suggestions.some((s) => s.kind === "router")).toBe(false);
  });
  it("appear when imbalance persists past early training", () => {
    const result = adviseMitigations(imbalancedInput(config, 64, { step: 800, history: history(800) }));
    const router = result.suggestions.filter((s) => s.kind === "router");
    expect(router.map((s) => s.id)).toEqual(["router:aux-coeff", "router:lb-type:seq_aux_loss", "router:z-coeff", "router:expert-bias"]);
    expect(router[0].changes).toEqual([{ flag: "--moe-aux-loss-coeff", from: "0.01", to: "0.02" }]);
    const bias = router.find((s) => s.id === "router:expert-bias")!;
    expect(bias.changes).toEqual([
      { flag: "--moe-router-enable-expert-bias", from: null, to: "" },
      { flag: "--moe-router-bias-update-rate", from: null, to: "0.001" },
      { flag: "--moe-router-score-function", from: null, to: "sigmoid" },
    ]);
    expectAllValid(result, 64);
  });
});

describe("adviseMitigations recomputation", () => {
  const cases = [
    {
      name: "adds selective recomputation of the MoE layer",
      patch: {},
      changes: [
        { flag: "--recompute-granularity", from: null, to: "selective" },
        { flag: "--recompute-modules", from: null, to: "moe" },
      ],
    },
    {
      // selective without --recompute-modules means ["core_attn"] in Megatron: keep it
      name: "keeps Megatron's default selective module",
      patch: { recompute_granularity: "selective" },
      changes: [{ flag: "--recompute-modules", from: null, to: "core_attn moe" }],
    },
    {
      name: "drops --recompute-method, which selective recomputation forbids",
      patch: { extra: { recompute_method: "uniform" } },
      changes: [
        { flag: "--recompute-granularity", from: null, to: "selective" },
        { flag: "--recompute-modules", from: null, to: "moe" },
        { flag: "--recompute-method", from: "uniform", to: null },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = adviseMitigations(imbalancedInput(withConfig(mixtral8x7b, c.patch), 64));
      const s = result.suggestions.find((x) => x.id === "recompute:moe")!;
      expect(s.changes).toEqual(c.changes);
      expect(s.rationale).toContain("--moe-layer-recompute");
      // one of a stage's 8 MoE layers stays: the activation term shrinks to 1/8
      expect(s.numbers.predictedPeakBytesAfter as number).toBeLessThan(s.numbers.predictedPeakBytesBefore as number);
    });
  }
  it("is not offered when the deprecated flag already recomputes the MoE layer", () => {
    const result = adviseMitigations(imbalancedInput(withConfig(mixtral8x7b, { moe_layer_recompute: true }), 64));
    expect(result.suggestions.some((s) => s.kind === "recompute")).toBe(false);
    expect(result.notes).toContain("the MoE layer is already recomputed: no recomputation suggestion");
  });
});

describe("adviseMitigations edge cases", () => {
  it("adds --disable-bias-linear for ETP > 1 on a model with biases, and ranks those pairs after the ones without", () => {
    const withBias = withConfig(mixtral8x7b, { disable_bias_linear: undefined });
    const result = adviseMitigations(imbalancedInput(withBias, 64));
    const etpEp = result.suggestions.filter((s) => s.kind === "etp-ep");
    const needing = etpEp.filter((s) => s.changes.some((c) => c.flag === "--disable-bias-linear"));
    expect(needing.length).toBeGreaterThan(0);
    for (const s of needing) {
      expect(s.valid).toBe(true);
      expect(s.violations.map((v) => v.rule)).toContain("disable-bias-linear-changes-model");
      expect(s.numbers.etpAfter as number).toBeGreaterThan(1);
    }
    const firstNeeding = etpEp.findIndex((s) => needing.includes(s));
    expect(etpEp.slice(0, firstNeeding).every((s) => s.numbers.etpAfter === 1)).toBe(true);
  });

  it("says when there is too little memory data", () => {
    const input = imbalancedInput(mixtral8x7b, 64);
    const result = adviseMitigations({ ...input, memory: input.memory.slice(0, 3) });
    expect(result.memoryModel).toBeNull();
    expect(result.notes).toContain("too little data for a memory model: 3 samples, need 20");
  });

  it("reports the fitted memory model", () => {
    const result = adviseMitigations(imbalancedInput(mixtral8x7b, 64));
    expect(result.memoryModel!.bytesPerToken).toBeCloseTo(150_000, 3);
    expect(result.memoryModel!.r2).toBeCloseTo(1, 9);
  });

  it("explains instead of throwing when the mesh is impossible", () => {
    const result = adviseMitigations({ ...imbalancedInput(mixtral8x7b, 64), worldSize: 48 });
    expect(result.suggestions).toEqual([]);
    expect(result.notes[0]).toMatch(/^cannot advise: world size 48 is not divisible by TP\*PP\*CP = 4|^cannot advise: world size 48/);
  });

  it("edits the run's own command line, leaving the launcher alone", () => {
    const commandLine = ["torchrun", "--nproc_per_node", "8", "--nnodes", "8", "pretrain_gpt.py", ...configToArgs(mixtral8x7b)];
    const result = adviseMitigations(imbalancedInput(mixtral8x7b, 64, { commandLine }));
    const s = result.suggestions.find((x) => x.id === "etp-ep:etp2-ep4")!;
    expect(s.argsAfter.slice(0, 6)).toEqual(["torchrun", "--nproc_per_node", "8", "--nnodes", "8", "pretrain_gpt.py"]);
    expect(parseMegatronArgs(s.argsAfter).config).toMatchObject({ expert_model_parallel_size: 4, expert_tensor_parallel_size: 2 });
  });
});

describe("adviseMitigations property: every suggestion validates across random valid runs", () => {
  it("holds for 150 seeded random runs", () => {
    const rand = seededRandom(20240611);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    let runs = 0;
    let suggestions = 0;
    for (let attempt = 0; runs < 150 && attempt < 5000; attempt++) {
      const tp = pick([1, 2, 4]);
      const pp = pick([1, 2, 4]);
      const cp = pick([1, 2]);
      const dp = pick([1, 2, 4, 8]);
      const world = tp * pp * cp * dp;
      const experts = pick([4, 8, 16, 64]);
      const ep = pick([1, 2, 4, 8, 16].filter((e) => experts % e === 0));
      const etp = pick([undefined, 1, 2, 4]);
      const lb = pick(["aux_loss", "seq_aux_loss", "global_aux_loss", "sinkhorn", "none"]);
      const numLayers = pp * pick([1, 2, 4]);
      const config: RunConfig = {
        num_layers: numLayers,
        hidden_size: 1024,
        moe_ffn_hidden_size: pick([512, 1536, 2048]),
        micro_batch_size: 1,
        global_batch_size: dp * pick([1, 2, 4]),
        num_experts: experts,
        moe_router_topk: Math.min(experts, pick([1, 2, 4])),
        moe_router_load_balancing_type: lb,
        moe_aux_loss_coeff: pick([0, 0.001, 0.01, 0.1]),
        tensor_model_parallel_size: tp,
        pipeline_model_parallel_size: pp,
        context_parallel_size: cp,
        expert_model_parallel_size: ep,
        expert_tensor_parallel_size: etp,
        sequence_parallel: tp > 1,
        disable_bias_linear: pick([true, false]),
        moe_expert_capacity_factor: lb !== "sinkhorn" && rand() < 0.3 ? 2.0 : undefined,
        recompute_granularity: rand() < 0.2 ? "selective" : undefined,
        extra: rand() < 0.5 ? { swiglu: "true", use_distributed_optimizer: "true" } : undefined,
      };
      if (config.recompute_granularity) config.recompute_modules = pick([["moe"], ["core_attn"], ["core_attn", "moe"]]);
      if (validateRunConfig(config, { worldSize: world, gpusPerNode: 8 }).some((v) => v.severity === "error")) continue;
      if (validateSuggestion(config, { worldSize: world, gpusPerNode: 8 }).some((v) => v.severity === "error")) continue;
      runs++;
      const heavy = rand() < 0.7;
      const weights = (layer: number, rank: number) =>
        Array.from({ length: experts }, (_, e) => (heavy ? 0.05 + (((e + layer) % experts) === 0 ? 5 : rand()) : 1 + 0.01 * ((rank + e) % 3)));
      const layers = observeLayers(config, world, { layers: Array.from({ length: numLayers }, (_, i) => i + 1), tokens: 256, microBatches: pick([1, 2]), weights });
      const step = pick([150, 800, 2000]);
      const level = heavy ? { epImbalance: 2.5, maxVio: 1.5 } : { epImbalance: 1.02, maxVio: 0.05 };
      const history = Array.from({ length: step / 10 }, (_, i) => ({ step: 10 * (i + 1), ...level }));
      const result = adviseMitigations({
        config,
        worldSize: world,
        gpusPerNode: 8,
        gpuMemoryBytes: 80 * GiB,
        commandLine: rand() < 0.5 ? [] : configToArgs(config),
        step,
        layers,
        memory: memoryOnLine(receivedByRank(config, layers), step, { base: 20 * GiB, perToken: 1e5 }, 2),
        history,
      });
      suggestions += result.suggestions.length;
      expectAllValid(result, world);
    }
    expect(runs).toBe(150);
    // the grid must exercise the advisor, not just skip it
    expect(suggestions).toBeGreaterThan(500);
  });
});
