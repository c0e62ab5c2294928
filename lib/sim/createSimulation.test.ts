import { describe, expect, it } from "vitest";
import type { LayerReport } from "../analysis/types";
import { createSimulation, type SimStep, type SimulationOptions, type Simulation } from "./createSimulation";

const GiB = 1024 ** 3;

function plain(s: SimStep) {
  return {
    step: s.step,
    layers: [...s.layers.entries()],
    samples: [...s.samples.entries()],
    oom: s.oom,
  };
}

/** Global load per layer: with TP = 1 (no SP) or TP > 1 (SP on) every rank routes distinct tokens. */
function globalLoad(sim: Simulation, s: SimStep): Map<number, number[]> {
  const E = sim.config.num_experts;
  const out = new Map<number, number[]>();
  for (const reps of s.layers.values()) {
    for (const rep of reps) {
      const l = out.get(rep.layer) ?? new Array<number>(E).fill(0);
      rep.tokensPerExpert.forEach((c, e) => (l[e] += c));
      out.set(rep.layer, l);
    }
  }
  return out;
}

function maxVio(load: number[]): number {
  const mean = load.reduce((a, b) => a + b, 0) / load.length;
  return Math.max(...load) / mean - 1;
}

function meanMaxVio(sim: Simulation, s: SimStep): number {
  const v = [...globalLoad(sim, s).values()].map(maxVio);
  return v.reduce((a, b) => a + b, 0) / v.length;
}

function allReports(s: SimStep): LayerReport[] {
  return [...s.layers.values()].flat();
}

/** Tokens received per EP rank of rank r's dispatch group for one layer, derived from the dispatched counts. */
function receivedByEpRank(sim: Simulation, s: SimStep, rank: number, layer: number): number[] {
  const E = sim.config.num_experts;
  const ep = sim.config.expert_model_parallel_size;
  const me = sim.ranks[rank].coords;
  const recv = new Array<number>(ep).fill(0);
  for (const ri of sim.ranks) {
    if (ri.coords.pp !== me.pp || ri.coords.edp !== me.edp) continue;
    const rep = s.layers.get(ri.rank)!.find((r) => r.layer === layer)!;
    rep.tokensPerExpert.forEach((c, e) => (recv[Math.floor(e / (E / ep))] += c));
  }
  return recv;
}

describe("createSimulation", () => {
  it("defaults to a Mixtral-8x7B-like run", () => {
    const sim = createSimulation({ ranks: 64, steps: 10, scenario: "balanced" });
    const c = sim.config;
    expect(c).toMatchObject({
      num_layers: 32,
      hidden_size: 4096,
      seq_length: 4096,
      micro_batch_size: 1,
      global_batch_size: 256,
      num_experts: 8,
      moe_router_topk: 2,
      moe_router_load_balancing_type: "aux_loss",
      moe_aux_loss_coeff: 1e-2,
      moe_z_loss_coeff: 1e-3,
      moe_token_dispatcher_type: "alltoall",
      moe_ffn_hidden_size: 14336,
      tensor_model_parallel_size: 1,
      pipeline_model_parallel_size: 4,
      context_parallel_size: 1,
      expert_model_parallel_size: 8,
      sequence_parallel: false,
      disable_bias_linear: true,
      bf16: true,
    });
    expect(sim.worldSize).toBe(64);
    expect(sim.gpusPerNode).toBe(8);
    expect(sim.gpuMemoryBytes).toBe(80 * GiB);
    expect(sim.moeLayers).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(sim.layersOfRank(0)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(sim.layersOfRank(63)).toEqual([25, 26, 27, 28, 29, 30, 31, 32]);
    expect(sim.ranks[13]).toMatchObject({ rank: 13, host: "sim-node-1", device: "sim:5" });
    // m = 256 / (1 * 16) = 16 micro-batches of 4096 tokens.
    const rep = sim.step(1).layers.get(0)![0];
    expect(rep).toMatchObject({ step: 1, layer: 1, microBatches: 16, tokens: 16 * 4096 });
  });

  it("turns on sequence parallelism with TP > 1 and shards the routed tokens", () => {
    const sim = createSimulation({ ranks: 64, steps: 5, scenario: "balanced", tp: 2, cp: 2, ep: 4, etp: 1, numLayers: 8 });
    expect(sim.config.sequence_parallel).toBe(true);
    expect(sim.config.expert_tensor_parallel_size).toBe(1);
    // DP = 64 / (2 * 4 * 2) = 4, m = 16; T_local = 16 * 4096 / (CP 2 * TP 2).
    const rep = sim.step(1).layers.get(0)![0];
    expect(rep.microBatches).toBe(16);
    expect(rep.tokens).toBe((16 * 4096) / 4);
  });

  it("is deterministic for a seed, in any call order, and changes with the seed", () => {
    const opts: SimulationOptions = { ranks: 32, steps: 50, scenario: "early-imbalance", seed: 11 };
    const a = createSimulation(opts);
    const b = createSimulation(opts);
    for (let t = 1; t <= 7; t++) a.step(t);
    expect(plain(b.step(7))).toEqual(plain(a.step(7)));
    expect(plain(a.step(3))).toEqual(plain(createSimulation(opts).step(3)));
    const c = createSimulation({ ...opts, seed: 12 });
    expect(plain(c.step(7))).not.toEqual(plain(a.step(7)));
  });

  it.each([
    { name: "default (normal approximation)", opts: {} },
    { name: "small T (token by token)", opts: { seqLength: 64, globalBatchSize: 16, numLayers: 8, hiddenSize: 1024 } },
    { name: "64 experts top-8", opts: { numExperts: 64, topk: 8, numLayers: 8 } },
    { name: "top-1", opts: { topk: 1, numLayers: 8 } },
  ])("counts sum to tokens * topk and stay within [0, tokens]: $name", { timeout: 30_000 }, ({ opts }) => {
    for (const scenario of ["early-imbalance", "balanced", "oom"] as const) {
      const sim = createSimulation({ ranks: 32, steps: 40, scenario, seed: 3, ...opts });
      const k = sim.config.moe_router_topk;
      for (const t of [1, 10, 25]) {
        for (const rep of allReports(sim.step(t))) {
          expect(rep.tokensPerExpert).toHaveLength(sim.config.num_experts);
          expect(rep.tokensPerExpert.reduce((x, y) => x + y, 0)).toBe(rep.tokens * k);
          for (const c of rep.tokensPerExpert) {
            expect(Number.isInteger(c)).toBe(true);
            expect(c).toBeGreaterThanOrEqual(0);
            expect(c).toBeLessThanOrEqual(rep.tokens);
          }
        }
      }
    }
  });

  it("drops over Megatron's capacity when a capacity factor is set", () => {
    const sim = createSimulation({ ranks: 32, steps: 50, scenario: "early-imbalance", seed: 5, capacityFactor: 1.0 });
    expect(sim.config.moe_expert_capacity_factor).toBe(1.0);
    let totalDropped = 0;
    for (const rep of allReports(sim.step(10))) {
      const before = rep.tokensPerExpertBeforeDrop!;
      expect(before.reduce((x, y) => x + y, 0)).toBe(rep.tokens * 2);
      expect(rep.tokensPerExpert.reduce((x, y) => x + y, 0) + rep.dropped!).toBe(rep.tokens * 2);
      rep.tokensPerExpert.forEach((c, e) => expect(c).toBeLessThanOrEqual(before[e]));
      totalDropped += rep.dropped!;
    }
    expect(totalDropped).toBeGreaterThan(0);
  });

  it("early-imbalance: MaxVio early is far above MaxVio at the end", { timeout: 30_000 }, () => {
    const steps = 300;
    const sim = createSimulation({ ranks: 64, steps, scenario: "early-imbalance", seed: 1 });
    const early = meanMaxVio(sim, sim.step(10));
    const late = meanMaxVio(sim, sim.step(steps));
    expect(early).toBeGreaterThan(0.8);
    expect(late).toBeLessThan(0.3);
    expect(early).toBeGreaterThan(4 * late);
  });

  it("load_balancing_loss: ~1.0 when balanced, > 1.2 early in imbalance, never above E/k", { timeout: 60_000 }, () => {
    for (const shape of [{}, { numExperts: 64, numLayers: 16 }]) {
      const bal = createSimulation({ ranks: 32, steps: 100, scenario: "balanced", seed: 2, ...shape });
      for (const t of [1, 40]) {
        for (const rep of allReports(bal.step(t))) {
          expect(Math.abs(rep.losses.load_balancing_loss! - 1)).toBeLessThan(0.03);
        }
      }
      const imb = createSimulation({ ranks: 32, steps: 200, scenario: "early-imbalance", seed: 2, ...shape });
      const E = imb.config.num_experts;
      const k = imb.config.moe_router_topk;
      const early = allReports(imb.step(20)).map((r) => r.losses.load_balancing_loss!);
      expect(early.reduce((a, b) => a + b, 0) / early.length).toBeGreaterThan(1.2);
      for (let t = 1; t <= 200; t += 1) {
        for (const rep of allReports(imb.step(t))) {
          expect(rep.losses.load_balancing_loss!).toBeLessThanOrEqual(E / k);
          expect(rep.losses.load_balancing_loss!).toBeGreaterThan(0.9);
        }
      }
    }
  });

  it("z_loss looks like a real run: around 10, higher early, decaying", { timeout: 30_000 }, () => {
    const sim = createSimulation({ ranks: 32, steps: 500, scenario: "balanced", seed: 4 });
    const mean = (t: number) => {
      const z = allReports(sim.step(t)).map((r) => r.losses.z_loss!);
      return z.reduce((a, b) => a + b, 0) / z.length;
    };
    const z1 = mean(1);
    const z500 = mean(500);
    expect(z1).toBeGreaterThan(10);
    expect(z1).toBeLessThan(16);
    expect(z500).toBeGreaterThan(5);
    expect(z500).toBeLessThan(z1);
  });

  it("oom: exactly one OOM, on the worst-receiving EP rank of its group, then no data", { timeout: 30_000 }, () => {
    for (const [steps, seed] of [
      [500, 1],
      [500, 9],
      [60, 4],
    ] as const) {
      const sim = createSimulation({ ranks: 64, steps, scenario: "oom", seed });
      const ooms: SimStep[] = [];
      let prev: SimStep | undefined;
      let beforeOom: SimStep | undefined;
      for (let t = 1; t <= steps; t++) {
        const s = sim.step(t);
        if (s.oom) {
          ooms.push(s);
          beforeOom = prev;
        }
        if (ooms.length > 0 && !s.oom) {
          expect(s.layers.size).toBe(0);
          expect(s.samples.size).toBe(0);
        }
        prev = s;
      }
      expect(ooms).toHaveLength(1);
      const s = ooms[0];
      const oom = s.oom!;
      expect(oom.step).toBe(s.step);
      expect(oom.step).toBeLessThan(steps);
      if (steps === 500) {
        expect(oom.step).toBeGreaterThanOrEqual(120);
        expect(oom.step).toBeLessThanOrEqual(220);
      }
      expect(["forward", "backward"]).toContain(oom.phase);
      expect(sim.layersOfRank(oom.rank)).toContain(oom.layer);
      expect(oom.message).toMatch(/^CUDA out of memory\. Tried to allocate [\d.]+ (MiB|GiB)\. GPU \d+ has a total capacity of 80\.00 GiB/);
      expect(oom.message).toContain(`GPU ${oom.rank % 8} `);
      expect(oom.memory!.numOoms).toBe(1);
      expect(oom.memory!.reservedBytes + oom.requestedBytes!).toBeGreaterThan(sim.gpuMemoryBytes - 1.25 * GiB);
      // The OOM rank's EP rank receives the most tokens in its dispatch group, at the OOM step and the step before.
      const myEp = sim.ranks[oom.rank].coords.ep;
      for (const step of [s, beforeOom!]) {
        const recv = receivedByEpRank(sim, step, oom.rank, oom.layer!);
        expect(recv.indexOf(Math.max(...recv))).toBe(myEp);
      }
      // Memory was the precursor: the OOM rank ran above 90% of the GPU the step before, with allocator retries.
      const last = beforeOom!.samples.get(oom.rank)!.memory!;
      expect(last.peakAllocatedBytes / sim.gpuMemoryBytes).toBeGreaterThan(0.9);
      expect(last.numAllocRetries).toBeGreaterThan(0);
      expect(s.samples.size).toBe(0);
      expect(sim.step(steps + 5).layers.size).toBe(0);
    }
  });

  it("oom: a capacity factor of 1.0 caps the hot EP rank and the run survives", { timeout: 30_000 }, () => {
    const sim = createSimulation({ ranks: 64, steps: 300, scenario: "oom", seed: 1, capacityFactor: 1.0 });
    for (let t = 1; t <= 300; t++) expect(sim.step(t).oom).toBeUndefined();
  });

  it("memory: imbalance raises the hot EP rank's peak; reserved >= peak >= allocated; retries never decrease", { timeout: 30_000 }, () => {
    const bal = createSimulation({ ranks: 64, steps: 300, scenario: "balanced", seed: 6 });
    const imb = createSimulation({ ranks: 64, steps: 300, scenario: "early-imbalance", seed: 6 });
    const maxPeak = (sim: Simulation, t: number) =>
      Math.max(...[...sim.step(t).samples.values()].map((x) => x.memory!.peakAllocatedBytes));
    expect(maxPeak(imb, 60)).toBeGreaterThan(1.08 * maxPeak(bal, 60));
    const peakFrac = maxPeak(bal, 60) / bal.gpuMemoryBytes;
    expect(peakFrac).toBeGreaterThan(0.45);
    expect(peakFrac).toBeLessThan(0.8);
    const lastRetries = new Map<number, number>();
    for (let t = 1; t <= 300; t += 7) {
      for (const [r, sample] of imb.step(t).samples) {
        const mem = sample.memory!;
        expect(mem.reservedBytes).toBeGreaterThanOrEqual(mem.peakAllocatedBytes);
        expect(mem.peakAllocatedBytes).toBeGreaterThanOrEqual(mem.allocatedBytes);
        expect(mem.peakAllocatedBytes).toBeLessThan(imb.gpuMemoryBytes);
        expect(mem.numOoms).toBe(0);
        expect(mem.numAllocRetries).toBeGreaterThanOrEqual(lastRetries.get(r) ?? 0);
        lastRetries.set(r, mem.numAllocRetries);
        expect(sample.iterationTimeMs!).toBeGreaterThan(0);
      }
    }
  });

  it("reports lm loss on the last pipeline stage only, decaying from ~11.6", { timeout: 30_000 }, () => {
    const sim = createSimulation({ ranks: 32, steps: 1100, scenario: "balanced", seed: 8 });
    const s1 = sim.step(1);
    for (const [r, sample] of s1.samples) {
      expect(sample.lmLoss !== undefined).toBe(sim.ranks[r].coords.pp === 3);
    }
    expect(s1.samples.get(31)!.lmLoss!).toBeGreaterThan(11.3);
    expect(sim.step(1080).samples.get(31)!.lmLoss!).toBeLessThan(5);
  });

  it("follows --moe-layer-freq and VPP when placing MoE layers", () => {
    const sim = createSimulation({ ranks: 32, steps: 5, scenario: "balanced", vpp: 2, moeLayerFreq: "([0]+[1]*31)" });
    expect(sim.moeLayers).toEqual(Array.from({ length: 31 }, (_, i) => i + 2));
    expect(sim.config.num_layers_per_virtual_pipeline_stage).toBe(4);
    // pp rank 0 holds chunks [1..4] and [17..20]; layer 1 is dense.
    expect(sim.layersOfRank(0)).toEqual([2, 3, 4, 17, 18, 19, 20]);
    expect(sim.step(1).layers.get(0)!.map((r) => r.layer)).toEqual([2, 3, 4, 17, 18, 19, 20]);
    const every2 = createSimulation({ ranks: 32, steps: 5, scenario: "balanced", moeLayerFreq: "2" });
    expect(every2.moeLayers).toEqual(Array.from({ length: 16 }, (_, i) => 2 * i + 1));
  });

  it.each([
    { name: "ranks not divisible by tp*pp*cp", opts: { ranks: 30 }, field: "ranks" },
    { name: "ranks not divisible by etp*ep*pp", opts: { ranks: 16 }, field: "ranks" },
    { name: "experts not divisible by ep", opts: { numExperts: 12 }, field: "numExperts" },
    { name: "layers not divisible by pp", opts: { numLayers: 30 }, field: "numLayers" },
    { name: "topk above experts", opts: { topk: 9 }, field: "topk" },
    { name: "bad vpp", opts: { vpp: 3 }, field: "vpp" },
    { name: "bad global batch", opts: { globalBatchSize: 100 }, field: "globalBatchSize" },
    { name: "bad moe layer freq", opts: { moeLayerFreq: "[1,0]" }, field: "moeLayerFreq" },
    { name: "no MoE layer", opts: { moeLayerFreq: "[0]*32" }, field: "moeLayerFreq" },
    { name: "zero steps", opts: { steps: 0 }, field: "steps" },
    { name: "bad scenario", opts: { scenario: "chaos" as never }, field: "scenario" },
    { name: "negative capacity factor", opts: { capacityFactor: -1 }, field: "capacityFactor" },
    { name: "oom without EP", opts: { scenario: "oom" as const, ep: 1 }, field: "ep" },
  ])("rejects $name, naming the option", ({ opts, field }) => {
    expect(() => createSimulation({ ranks: 64, steps: 10, scenario: "balanced", ...opts })).toThrow(
      new RegExp(`^${field}:`),
    );
  });

  it("prints how long 500 steps x 64 ranks take (not an assertion)", { timeout: 120_000 }, () => {
    for (const [name, shape] of [
      ["8 experts x 32 layers (8 per rank)", {}],
      ["64 experts x 16 layers (4 per rank)", { numExperts: 64, numLayers: 16 }],
    ] as const) {
      const sim = createSimulation({ ranks: 64, steps: 500, scenario: "early-imbalance", seed: 1, ...shape });
      const t0 = performance.now();
      for (let t = 1; t <= 500; t++) sim.step(t);
      const ms = performance.now() - t0;
      console.log(`[sim timing] ${name}: 500 steps x 64 ranks in ${ms.toFixed(0)} ms (${(ms / 500).toFixed(2)} ms/step)`);
    }
  });
});
