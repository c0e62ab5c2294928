import { describe, expect, it } from "vitest";
import { mixtral8x7b, withConfig } from "../testdata/configs";
import { expertActivationScale, expertWeightBytes, latestMemory, predictPeakMemory } from "./predictPeakMemory";
import type { MemoryObservation } from "./types";

describe("expertActivationScale", () => {
  const h4096 = withConfig(mixtral8x7b, { hidden_size: 4096, moe_ffn_hidden_size: 14336 });
  const cases = [
    // SwiGLU: per token 4096 + 3 x 14336 / ETP -> (4096 + 21504) / (4096 + 43008)
    { name: "SwiGLU, ETP 1 -> 2", config: withConfig(h4096, { extra: { swiglu: "true" } }), from: 1, to: 2, want: 25600 / 47104, known: true },
    // plain MLP: 4096 + 2 x 14336 / ETP -> (4096 + 14336) / (4096 + 28672)
    { name: "plain MLP, ETP 1 -> 2", config: h4096, from: 1, to: 2, want: 18432 / 32768, known: true },
    { name: "ETP 2 -> 1 is the inverse", config: h4096, from: 2, to: 1, want: 32768 / 18432, known: true },
    { name: "sizes unknown", config: withConfig(mixtral8x7b, { hidden_size: undefined }), from: 1, to: 4, want: 1, known: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = expertActivationScale(c.config, c.from, c.to);
      expect(got.scale).toBeCloseTo(c.want, 12);
      expect(got.known).toBe(c.known);
    });
  }
});

describe("expertWeightBytes", () => {
  // 8x7B: 2 x 4096 x 14336 x 8 experts x 3/2 (SwiGLU) = 1,409,286,144 params per MoE layer; / (EP 8 x ETP 1);
  // 8 MoE layers per stage -> 1,409,286,144 params per rank
  const sizes = { tp: 1, cp: 1, dp: 16, pp: 4, ep: 8, etp: 1, edp: 2 };
  const base = withConfig(mixtral8x7b, { moe_ffn_hidden_size: 14336 });
  it("uses 6 + 12/EDP bytes per parameter with the distributed optimizer", () => {
    const got = expertWeightBytes(withConfig(base, { extra: { swiglu: "true", use_distributed_optimizer: "true" } }), sizes)!;
    expect([...got.keys()].sort()).toEqual([0, 1, 2, 3]);
    expect(got.get(2)).toBeCloseTo(1_409_286_144 * (6 + 12 / 2), 0);
  });
  it("uses 18 bytes per parameter without it", () => {
    expect(expertWeightBytes(withConfig(base, { extra: { swiglu: "true" } }), sizes)!.get(0)).toBeCloseTo(1_409_286_144 * 18, 0);
  });
  it("is null when the sizes are unknown", () => {
    expect(expertWeightBytes(mixtral8x7b, sizes)).toBeNull();
  });
});

describe("predictPeakMemory", () => {
  const sample = (rank: number, peak: number, received: number, step = 100): MemoryObservation => ({ rank, step, peakAllocatedBytes: peak, receivedTokens: received });
  const model = { baseBytes: 0, bytesPerToken: 1000, r2: 1, samples: 20, rmsErrorBytes: 0 };
  const latest = latestMemory([sample(0, 50e9, 10000), sample(1, 40e9, 5000), sample(2, 30e9, 0), sample(0, 99e9, 1, 90)], 100);

  it("moves each rank's own peak by the slope times its change in received tokens", () => {
    // rank 0: 10000 x (100/200) x 0.5 = 2500 -> 50e9 - 1000 x 7500; rank 1: 5000 x 1.5 x 0.5 = 3750 -> 40e9 - 1.25e6 + 1e9;
    // rank 2 has no counts (before 0): keeps 30e9
    const got = predictPeakMemory(model, latest, new Map([[0, 200], [1, 100], [2, 0]]), new Map([[0, 100], [1, 150], [2, 50]]), 0.5, (r) => (r === 1 ? 1e9 : 0));
    expect(got.worstBefore).toEqual({ rank: 0, bytes: 50e9 });
    expect(got.worstAfter).toEqual({ rank: 0, bytes: 50e9 - 7.5e6 });
    expect(got.ranksPredicted).toBe(2);
  });

  it("predicts nothing without a model but still reports today's worst", () => {
    const got = predictPeakMemory(null, latest, new Map([[0, 1]]), new Map([[0, 2]]));
    expect(got).toEqual({ worstBefore: { rank: 0, bytes: 50e9 }, worstAfter: null, ranksPredicted: 0 });
  });

  it("keeps the latest sample per rank at or before the step", () => {
    const got = latestMemory([sample(0, 1, 1, 10), sample(0, 2, 1, 20), sample(0, 3, 1, 30)], 25);
    expect(got.get(0)?.peakAllocatedBytes).toBe(2);
  });
});
