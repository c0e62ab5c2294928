import { describe, expect, it } from "vitest";
import { aggregateLayer, expectedCountingRanks, loadBasis, type RankLayerReport } from "./aggregateLayer";
import type { RunConfig } from "./types";

// 8 ranks, PP 2 -> 4 ranks per stage; EP 2, TP 1 -> EDP 2; 4 experts, top-2.
const config: RunConfig = {
  num_layers: 4,
  num_experts: 4,
  moe_router_topk: 2,
  tensor_model_parallel_size: 1,
  pipeline_model_parallel_size: 2,
  context_parallel_size: 1,
  expert_model_parallel_size: 2,
};

const rep = (rank: number, dp: number, counts: number[], losses = {}): RankLayerReport => ({
  rank,
  coords: { tp: 0, cp: 0, dp, pp: 1, ep: dp % 2, etp: 0, edp: Math.floor(dp / 2) },
  report: { step: 5, layer: 3, microBatches: 1, tokens: 10, tokensPerExpert: counts, losses },
});

describe("aggregateLayer", () => {
  it("sums all ranks of the stage, measures imbalance and finds the worst EP rank", () => {
    const reports = [
      rep(4, 0, [10, 6, 2, 2], { load_balancing_loss: 1.2, z_loss: 10 }),
      rep(5, 1, [8, 8, 2, 2], { load_balancing_loss: 1.4, z_loss: 12 }),
      rep(6, 2, [5, 5, 5, 5]),
      rep(7, 3, [5, 5, 5, 5]),
    ];
    const a = aggregateLayer(5, 3, reports, config, 8);
    // Global load: [28, 24, 14, 14], total 80, mean 20 -> MaxVio = 28/20 - 1 = 0.4.
    expect(a.load).toEqual([28, 24, 14, 14]);
    expect(a.maxVio).toBeCloseTo(0.4, 12);
    expect(a.tokens).toBe(40);
    expect([a.ranksReported, a.ranksExpected]).toEqual([4, 4]);
    expect(a.deadExperts).toBe(0);
    // Group edp 0 = ranks 4 (ep 0) and 5 (ep 1). EP rank 0 hosts experts 0-1: 10+6+8+8 = 32;
    // EP rank 1 hosts 2-3: 2+2+2+2 = 8. Mean 20 -> worst ratio 32/20 = 1.6. Group edp 1 is balanced (1.0).
    expect(a.epImbalance).toBeCloseTo(1.6, 12);
    expect(a.epWorst).toEqual({ edp: 0, epRank: 0 });
    // Losses: mean over the ranks that sent them.
    expect(a.losses.load_balancing_loss).toBeCloseTo(1.3, 12);
    expect(a.losses.z_loss).toBeCloseTo(11, 12);
    expect(a.losses.seq_load_balancing_loss).toBeUndefined();
    expect(a.dropFraction).toBeNull();
    // No counts before dropping were sent: the router and dispatched loads are the same counts.
    expect(a.dispatchedLoad).toBeNull();
  });

  it("with a capacity factor: router metrics from the counts before dropping, the dispatched load beside them", () => {
    // Every rank: T = 10, top-2 -> T*k/E = 5, cf 1.0 -> C = 5. The router chose [10, 6, 2, 2]; dropping
    // capped it at 5 per expert: [5, 5, 2, 2] dispatched, 6 of 20 assignments dropped.
    const capped = (r: RankLayerReport): RankLayerReport => ({
      ...r,
      report: { ...r.report, tokensPerExpert: [5, 5, 2, 2], tokensPerExpertBeforeDrop: [10, 6, 2, 2], dropped: 6 },
    });
    const a = aggregateLayer(5, 3, [rep(4, 0, []), rep(5, 1, []), rep(6, 2, []), rep(7, 3, [])].map(capped), { ...config, moe_expert_capacity_factor: 1 }, 8);
    const entropy = (load: number[]) => {
      const total = load.reduce((x, y) => x + y, 0);
      return -load.reduce((h, l) => h + (l > 0 ? (l / total) * Math.log(l / total) : 0), 0) / Math.log(load.length);
    };
    // Router: [40, 24, 8, 8], mean 20 -> MaxVio 40/20 - 1 = 1.0. Dispatched: [20, 20, 8, 8], mean 14 ->
    // MaxVio 20/14 - 1 = 0.43, which is what the product showed before (dropping hides the router's skew).
    expect(a.load).toEqual([40, 24, 8, 8]);
    expect(a.maxVio).toBeCloseTo(1.0, 12);
    expect(a.entropy).toBeCloseTo(entropy([40, 24, 8, 8]), 12);
    // CV: deviations [20, 4, -12, -12] -> sqrt((400 + 16 + 144 + 144) / 4) / 20 = sqrt(176) / 20.
    expect(a.cv).toBeCloseTo(Math.sqrt(176) / 20, 12);
    expect(a.dispatchedLoad).toEqual([20, 20, 8, 8]);
    expect(a.dropFraction).toBeCloseTo(0.3, 12);
    // EP: group edp 0 = ranks 4 (EP rank 0, experts 0-1) and 5 (EP rank 1, experts 2-3). Received after
    // dropping [20, 8], mean 14 -> 20/14; the router asked for [32, 8], which is the demand, not the imbalance.
    expect(a.epImbalance).toBeCloseTo(20 / 14, 12);
  });

  it("a collapsing router under a capacity factor: dropping would show a far healthier layer", () => {
    // E = 8, top-2, T = 64 per rank -> T*k/E = 16, cf 1.0 -> C = 16. The router sends 104 of 128
    // assignments to experts 0 and 1; dropping keeps 16 of each: 72 of 128 dropped.
    const e8: RunConfig = { ...config, num_experts: 8, expert_model_parallel_size: 1, moe_expert_capacity_factor: 1 };
    const before = [64, 40, 8, 4, 4, 4, 2, 2];
    const after = [16, 16, 8, 4, 4, 4, 2, 2];
    const r = (rank: number, dp: number): RankLayerReport => ({
      rank,
      coords: { tp: 0, cp: 0, dp, pp: 1, ep: 0, etp: 0, edp: dp },
      report: { step: 5, layer: 3, microBatches: 1, tokens: 64, tokensPerExpert: after, tokensPerExpertBeforeDrop: before, dropped: 72, losses: {} },
    });
    const a = aggregateLayer(5, 3, [r(4, 0), r(5, 1), r(6, 2), r(7, 3)], e8, 8);
    // Router: mean 128/8 = 16 per rank -> MaxVio 64/16 - 1 = 3. Dispatched: mean 56/8 = 7 -> 16/7 - 1 = 1.29.
    expect(a.maxVio).toBeCloseTo(3, 12);
    expect(a.dispatchedLoad).toEqual(after.map((c) => 4 * c));
    expect(a.dropFraction).toBeCloseTo(72 / 128, 12);
    // Utilization of the coldest experts: router 2/16 = 0.125, dispatched 2/7 = 0.29: neither is dead.
    expect(a.deadExperts).toBe(0);
  });

  it("computes the drop fraction over the ranks that reported drops", () => {
    const withDrops = (r: RankLayerReport, dropped: number): RankLayerReport => ({ ...r, report: { ...r.report, dropped } });
    const a = aggregateLayer(5, 3, [withDrops(rep(4, 0, [10, 6, 2, 0]), 2), withDrops(rep(5, 1, [5, 5, 5, 5]), 0)], config, 8);
    // 2 dropped of 2 ranks x 10 tokens x top-2 = 40 assignments.
    expect(a.dropFraction).toBeCloseTo(0.05, 12);
  });

  it("is partial until every rank of the stage reported", () => {
    const a = aggregateLayer(5, 3, [rep(4, 0, [10, 6, 2, 2])], config, 8);
    expect([a.ranksReported, a.ranksExpected]).toEqual([1, 4]);
    expect(a.load).toEqual([10, 6, 2, 2]);
  });

  it("counts tp rank 0 only without sequence parallelism", () => {
    const tp2: RunConfig = { ...config, tensor_model_parallel_size: 2, expert_tensor_parallel_size: 1, disable_bias_linear: true };
    // world 16, PP 2 -> 8 ranks per stage, 4 of them tp rank 0.
    expect(expectedCountingRanks(tp2, 16)).toBe(4);
    expect(expectedCountingRanks({ ...tp2, sequence_parallel: true }, 16)).toBe(8);
  });
});

describe("loadBasis", () => {
  const cases = [
    { name: "no capacity factor", a: { dispatchedLoad: null, dropFraction: null }, cf: undefined, want: "no-drop" },
    { name: "capacity factor, dispatched load stored", a: { dispatchedLoad: [1, 2], dropFraction: 0.2 }, cf: 1, want: "before-drop" },
    { name: "capacity factor, nothing dropped", a: { dispatchedLoad: null, dropFraction: 0 }, cf: 1, want: "no-drop" },
    { name: "capacity factor, drops, no counts before dropping", a: { dispatchedLoad: null, dropFraction: 0.2 }, cf: 1, want: "dispatched-only" },
    { name: "capacity factor, no drop count sent", a: { dispatchedLoad: null, dropFraction: null }, cf: 1.2, want: "dispatched-only" },
  ] as const;
  for (const c of cases) it(c.name, () => expect(loadBasis(c.a, c.cf)).toBe(c.want));
});
