import { describe, expect, it } from "vitest";
import type { StepMetricsDto } from "../dto";
import { prepareStepMetricsTable } from "./prepareStepMetricsTable";

const DTO: StepMetricsDto = {
  runId: "r",
  step: 148,
  layers: [
    {
      layer: 1, ranksReported: 8, ranksExpected: 8, rule: "all ranks (TP=1)", total: 1_048_576, maxVio: 1.52, cv: 0.609, normalizedEntropy: 0.928,
      deadExperts: [], hottest: [{ expert: 1, load: 330_301, utilization: 2.52 }], coldest: [{ expert: 6, load: 54_132, utilization: 0.413 }], epImbalance: 1.63,
      loadBasis: "no-drop", dispatched: null, dropFraction: null,
    },
    {
      layer: 2, ranksReported: 6, ranksExpected: 8, rule: "all ranks (TP=1)", total: 786_432, maxVio: 2.9, cv: 1.2, normalizedEntropy: 0.61,
      deadExperts: [4, 7], hottest: [{ expert: 0, load: 285_000, utilization: 2.9 }], coldest: [{ expert: 4, load: 0, utilization: 0 }], epImbalance: null,
      loadBasis: "before-drop", dispatched: { total: 172_000, maxVio: 0.2, cv: 0.1, normalizedEntropy: 0.99, deadExperts: [] }, dropFraction: 0.781,
    },
  ],
  summary: { maxVio: { min: 1.52, median: 2.21, p90: 2.762, max: 2.9 } },
};

describe("prepareStepMetricsTable", () => {
  const m = prepareStepMetricsTable(DTO, 2);
  it("formats each layer's metrics from the server", () => {
    expect(m.rows[0]).toMatchObject({ layer: 1, maxVio: "1.52", cv: "0.609", entropy: "0.928", epImbalance: "1.63×", partial: false, selected: false });
    expect(m.rows[1]).toMatchObject({ epImbalance: "–", partial: true, ranks: "6/8", selected: true });
  });
  it("shows the dispatched view beside the router's only where dropping changed the load", () => {
    expect(m.rows[0]).toMatchObject({ dispatched: null, dropped: "–", basisWarning: null });
    expect(m.rows[1]).toMatchObject({ maxVio: "2.9", dispatched: { maxVio: "0.2", cv: "0.1", entropy: "0.99", dead: 0 }, dropped: "78%" });
    expect(m.anyDispatched).toBe(true);
    expect(m.basisNote).toContain("before capacity dropping");
  });
  it("warns when the router metrics come from capped counts", () => {
    const capped = prepareStepMetricsTable({ ...DTO, layers: [{ ...DTO.layers[0], loadBasis: "dispatched-only", dropFraction: 0.3 }] });
    expect(capped.rows[0].basisWarning).toMatch(/understated/);
    expect(capped.anyDispatched).toBe(false);
  });
  it("lists dead, hottest and coldest experts", () => {
    expect(m.rows[1].dead.map((d) => d.label)).toEqual(["E4", "E7"]);
    expect(m.rows[0].hottest[0].label).toBe("E1 2.52×");
    expect(m.rows[0].coldest[0].title).toBe("expert 6: 54.1k tokens, 0.413× the layer mean");
    expect(m.deadTotal).toBe(2);
  });
  it("states the de-duplication rule once and the cross-layer MaxVio summary", () => {
    expect(m.rules).toEqual(["all ranks (TP=1)"]);
    expect(m.maxVioSummary).toBe("min 1.52 · median 2.21 · p90 2.76 · max 2.9");
  });
});
