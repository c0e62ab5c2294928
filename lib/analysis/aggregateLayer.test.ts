import { describe, expect, it } from "vitest";
import { aggregateLayer, expectedCountingRanks, type RankLayerReport } from "./aggregateLayer";
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
