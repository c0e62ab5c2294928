import { describe, expect, it } from "vitest";
import { mixtral8x7b } from "../testdata/configs";
import { adviseMitigations, type AdvisorInput } from "./adviseMitigations";
import { configToArgs } from "./configToArgs";
import { memoryOnLine, observeLayers, receivedByRank } from "./testdata/observations";

const GiB = 2 ** 30;
const layers = (weights: number[]) =>
  observeLayers(mixtral8x7b, 64, { layers: Array.from({ length: mixtral8x7b.num_layers }, (_, i) => i + 1), tokens: 4096, microBatches: 4, weights: () => weights });

function input(weights: number[], patch: Partial<AdvisorInput> = {}): AdvisorInput {
  const l = layers(weights);
  return {
    config: mixtral8x7b, worldSize: 64, gpusPerNode: 8, gpuMemoryBytes: 80 * GiB, commandLine: configToArgs(mixtral8x7b), step: 150, layers: l,
    memory: memoryOnLine(receivedByRank(mixtral8x7b, l), 150, { base: 30 * GiB, perToken: 150_000 }, 3),
    history: [], ...patch,
  };
}

/** Peaks that do not follow received tokens: the same tokens, peaks scattered by a fixed pattern. */
function scatter(i: AdvisorInput): AdvisorInput {
  return { ...i, memory: i.memory.map((m, k) => ({ ...m, peakAllocatedBytes: 40 * GiB + ((k * 7919) % 13) * GiB })) };
}

const skew = [6, 1.5, 1, 1, 1, 1, 0.5, 0.5];

describe("advice that says when it is unsure", () => {
  it("a strong fit predicts memory", () => {
    const r = adviseMitigations(input(skew));
    expect(r.memoryPredictionsOff).toBeNull();
    expect(r.suggestions.some((s) => s.numbers.predictedPeakBytesAfter !== null && s.numbers.predictedPeakBytesAfter !== undefined)).toBe(true);
  });

  it("a fit below r2 0.5 predicts no memory, says why, and ranks without it", () => {
    const r = adviseMitigations(scatter(input(skew)));
    expect(r.memoryModel).not.toBeNull();
    expect(r.memoryModel!.r2).toBeLessThan(0.5);
    expect(r.memoryPredictionsOff).toMatch(/fit r2 0\.\d\d is below 0\.50/);
    expect(r.suggestions.length).toBeGreaterThan(0);
    for (const s of r.suggestions) {
      expect(s.numbers.predictedPeakBytesAfter ?? null, s.id).toBeNull();
      expect(s.rationale, s.id).not.toMatch(/GiB after/);
    }
    expect(r.suggestions.find((s) => s.kind === "capacity")!.rationale).toMatch(/no prediction \(the memory model's fit, r2 0\.\d\d, is below 0\.50\)/);
  });

  it("the fit threshold is an option", () => {
    const r = adviseMitigations({ ...scatter(input(skew)), options: { minMemoryFitR2: 0 } });
    expect(r.memoryPredictionsOff).toBeNull();
  });

  it("'needs relief' follows the alert thresholds; under them the changes are precautions", () => {
    // Mild skew: over the balanced level (1.3x), under the ep-imbalance-high alert's 2.0x.
    const mild = adviseMitigations(input([1.6, 1.2, 1, 1, 1, 1, 0.6, 0.6]));
    expect(mild.notes.join("\n")).not.toMatch(/needs relief/);
    expect(mild.notes.join("\n")).toMatch(/under the alert thresholds \(EP imbalance 2\.00x, MaxVio 1\.00\).*precautions/);
    expect(adviseMitigations(input(skew)).notes.join("\n")).toMatch(/step 150 needs relief/);
    // A run whose alert threshold was lowered to 1.2 needs relief at the same counts.
    expect(adviseMitigations(input([1.6, 1.2, 1, 1, 1, 1, 0.6, 0.6], { options: { reliefEpImbalance: 1.2 } })).notes.join("\n")).toMatch(/needs relief/);
  });

  it("a capacity factor that drops tokens in early training says so in its title", () => {
    const r = adviseMitigations(input(skew));
    const dropping = r.suggestions.find((s) => s.id === "capacity:1.0")!;
    expect(dropping.title).toMatch(/^Capacity factor none -> 1\.0: drops \d+(\.\d)?% of layer \d+'s assignments in early training$/);
    const late = adviseMitigations(input(skew, { step: 900, memory: [] })).suggestions.find((s) => s.id === "capacity:1.0")!;
    expect(late.title).toBe("Capacity factor none -> 1.0");
  });
});
