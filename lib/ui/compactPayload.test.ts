import { describe, expect, it } from "vitest";
import type { ImbalanceHeatmapDto, LossSeriesDto } from "../dto";
import { compactImbalance, lossSeriesFor, roundSig } from "./compactPayload";

describe("roundSig", () => {
  const cases: Array<[number, number]> = [
    [1.23456789, 1.235],
    [0.000123456, 0.0001235],
    [123456, 123500],
    [1024, 1024],
    [0, 0],
    [-2.71828, -2.718],
  ];
  for (const [v, want] of cases) it(`${v} -> ${want}`, () => expect(roundSig(v)).toBe(want));
});

describe("lossSeriesFor", () => {
  it("keeps only the drawn loss, steps untouched, values rounded, a spike still the max", () => {
    const dto: LossSeriesDto = {
      runId: "r", fromStep: 1, toStep: 1000, bucketSize: 500,
      series: [
        { layer: 1, loss: "z_loss", points: [{ step: 1, value: 10.123456, min: 9.87654, max: 31.41592 }] },
        { layer: 1, loss: "load_balancing_loss", points: [{ step: 1, value: 1.0001234, min: 1, max: 1.5 }] },
      ],
    };
    expect(lossSeriesFor(dto, "z_loss")).toEqual({ ...dto, series: [{ layer: 1, loss: "z_loss", points: [{ step: 1, value: 10.12, min: 9.877, max: 31.42 }] }] });
    expect(lossSeriesFor(null, "z_loss")).toBeNull();
  });
});

describe("compactImbalance", () => {
  it("rounds values and summary, keeps nulls and the layout", () => {
    const dto: ImbalanceHeatmapDto = {
      runId: "r", metric: "maxVio", reduce: "max", bucketSize: 64, layers: [1, 2], steps: [0, 64],
      values: [[0.123456, null], [2.000049, 3.99999]],
      summary: [{ step: 0, min: 0.123456, median: 1.0617725, p90: 1.8123, max: 2.000049 }, { step: 64, min: null, median: null, p90: null, max: null }],
    };
    const out = compactImbalance(dto)!;
    expect(out.values).toEqual([[0.1235, null], [2, 4]]);
    expect(out.summary[0]).toEqual({ step: 0, min: 0.1235, median: 1.062, p90: 1.812, max: 2 });
    expect(out.summary[1]).toEqual(dto.summary[1]);
    expect(out.layers).toEqual(dto.layers);
    expect(out.steps).toEqual(dto.steps);
  });
});
