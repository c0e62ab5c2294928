import { describe, expect, it } from "vitest";
import { prepareScalarPanels } from "./prepareScalarPanels";

describe("prepareScalarPanels", () => {
  it("keeps run-level series, known losses first, with min/max bands and the last value", () => {
    const panels = prepareScalarPanels({
      runId: "r",
      bucketSize: 2,
      series: [
        { name: "grad norm", layer: 0, points: [{ step: 1, value: 2, min: 1, max: 3 }] },
        { name: "load_balancing_loss", layer: 3, points: [{ step: 1, value: 1.2, min: 1.2, max: 1.2 }] },
        { name: "load_balancing_loss", layer: 0, points: [{ step: 1, value: 1.4, min: 1.3, max: 1.5 }, { step: 3, value: 1.1, min: 1.0, max: 1.2 }] },
        { name: "lm loss", layer: 0, points: [{ step: 1, value: 11, min: 11, max: 11 }] },
      ],
    });
    expect(panels.map((p) => p.name)).toEqual(["lm loss", "load_balancing_loss", "grad norm"]);
    expect(panels[1].rows[0]).toEqual({ step: 1, value: 1.4, band: [1.3, 1.5] });
    expect(panels[1].last).toEqual({ step: 3, value: 1.1 });
  });
  it("is empty without data", () => expect(prepareScalarPanels(null)).toEqual([]));
});
