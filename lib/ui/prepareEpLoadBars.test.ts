import { describe, expect, it } from "vitest";
import type { EpLoadDto } from "../dto";
import { prepareEpLoadBars } from "./prepareEpLoadBars";

// Layer 3 at step 80 of a 16-rank run (EP 4, PP 2, EDP 2): layer 3 lives on pp 0, so two groups; one partial.
const DTO: EpLoadDto = {
  runId: "r",
  step: 80,
  layer: 3,
  ep: 4,
  etp: 1,
  expertsPerEpRank: 2,
  groups: [
    { edp: 0, pp: 0, received: [120_000, 140_000, 131_072, 133_000], mean: 131_018, ratio: 1.0685, ranksReported: 4, ranksExpected: 4, demand: null, demandRatio: null },
    { edp: 1, pp: 0, received: [247_552, 90_000, 100_000, 86_736], mean: 131_072, ratio: 1.888671875, ranksReported: 3, ranksExpected: 4, demand: null, demandRatio: null },
  ],
  worst: { edp: 1, pp: 0, epRank: 0, received: 247_552, mean: 131_072, ratio: 1.888671875 },
  epImbalance: 1.888671875,
  demandImbalance: null,
  mismatches: [{ rank: 5, epRank: 1, derived: 90_000, reported: 90_010 }],
};

describe("prepareEpLoadBars", () => {
  const m = prepareEpLoadBars(DTO);
  it("puts the worst group first and marks its worst rank", () => {
    expect(m.groups.map((g) => g.label)).toEqual(["edp 1 · pp 0", "edp 0 · pp 0"]);
    expect(m.groups[0].worst).toBe(true);
    expect(m.groups[0].bars.filter((b) => b.worst).map((b) => b.epRank)).toEqual([0]);
    expect(m.groups[1].bars.some((b) => b.worst)).toBe(false);
  });
  it("draws every bar and mean on one scale (the tallest bar is 1)", () => {
    expect(m.groups[0].bars[0].height).toBe(1);
    expect(m.groups[0].meanHeight).toBeCloseTo(131_072 / 247_552, 10);
    expect(m.groups[1].bars[1].height).toBeCloseTo(140_000 / 247_552, 10);
  });
  it("gives each bar its multiple of the group mean", () => {
    expect(m.groups[0].bars[0].ofMean).toBeCloseTo(1.888671875, 10);
  });
  it("labels partial groups with ranks reported / expected", () => {
    expect(m.groups[0].partialLabel).toBe("3/4 ranks reported");
    expect(m.groups[1].partialLabel).toBeNull();
  });
  it("without counts before dropping draws no demand markers", () => {
    expect(m.showDemand).toBe(false);
    expect(m.groups[0].bars[0]).toMatchObject({ demand: null, demandHeight: null });
  });
  it("with a capacity factor: demand markers on the same scale as the received bars", () => {
    // EP rank 0 of edp 1 was asked for 400k tokens and received 247,552 after dropping.
    const capped: EpLoadDto = {
      ...DTO,
      groups: [DTO.groups[0], { ...DTO.groups[1], demand: [400_000, 90_000, 100_000, 86_736], demandRatio: 400_000 / 169_184 }],
      demandImbalance: 400_000 / 169_184,
    };
    const c = prepareEpLoadBars(capped);
    expect(c.showDemand).toBe(true);
    expect(c.groups[0].bars[0]).toMatchObject({ received: 247_552, demand: 400_000, demandHeight: 1 });
    expect(c.groups[0].bars[0].height).toBeCloseTo(247_552 / 400_000, 10);
    expect(c.demandImbalance).toBeCloseTo(400_000 / 169_184, 10);
  });
  it("passes mismatches through and caps the groups shown", () => {
    expect(m.mismatches).toHaveLength(1);
    const capped = prepareEpLoadBars(DTO, 1);
    expect(capped.groups).toHaveLength(1);
    expect(capped.hiddenGroups).toBe(1);
    expect(capped.totalGroups).toBe(2);
  });
});
