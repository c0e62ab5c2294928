import { describe, expect, it } from "vitest";
import { classifyHistory, isImbalanced } from "./classifyHistory";
import { DEFAULT_ADVISOR_OPTIONS, type HistoryPoint } from "./types";

const opts = { ...DEFAULT_ADVISOR_OPTIONS, stableWindowSteps: 100 };
const balanced = { epImbalance: 1.1, maxVio: 0.2 };
const skewed = { epImbalance: 2.5, maxVio: 1.4 };
/** One point every 10 steps over [from, to]. */
const points = (from: number, to: number, v: Omit<HistoryPoint, "step">): HistoryPoint[] =>
  Array.from({ length: Math.floor((to - from) / 10) + 1 }, (_, i) => ({ step: from + 10 * i, ...v }));

describe("isImbalanced", () => {
  const cases = [
    { name: "both below", p: { step: 1, epImbalance: 1.29, maxVio: 0.49 }, want: false },
    { name: "EP imbalance at the threshold", p: { step: 1, epImbalance: 1.3, maxVio: 0.1 }, want: true },
    { name: "MaxVio at the threshold", p: { step: 1, epImbalance: 1.0, maxVio: 0.5 }, want: true },
    { name: "EP imbalance unmeasured (EP 1), MaxVio low", p: { step: 1, epImbalance: null, maxVio: 0.1 }, want: false },
    { name: "nothing measured", p: { step: 1, epImbalance: null, maxVio: null }, want: null },
  ];
  for (const c of cases) it(c.name, () => expect(isImbalanced(c.p, opts)).toBe(c.want));
});

describe("classifyHistory", () => {
  const cases: Array<{ name: string; history: HistoryPoint[]; step: number; stable: boolean; until: number; persisting: boolean }> = [
    // window (900, 1000] = steps 901..1000; balanced since 800 <= 901
    { name: "balanced for longer than the window", history: points(800, 1000, balanced), step: 1000, stable: true, until: 0, persisting: false },
    // balanced since 910 (history starts there): 910 - 901 = 9 steps short
    { name: "history shorter than the window", history: points(910, 1000, balanced), step: 1000, stable: false, until: 9, persisting: false },
    // skewed through 950, balanced since 951: 951 - 901 = 50 more steps
    { name: "imbalance inside the window", history: [...points(700, 950, skewed), ...points(960, 1000, balanced)], step: 1000, stable: false, until: 50, persisting: false },
    // balanced since 891 (last skewed 890) <= 901: stable exactly
    { name: "last imbalance just before the window", history: [...points(700, 890, skewed), ...points(900, 1000, balanced)], step: 1000, stable: true, until: 0, persisting: false },
    { name: "an unmeasured point breaks the window", history: [...points(800, 1000, balanced), { step: 1000, epImbalance: null, maxVio: null }], step: 1000, stable: false, until: 100, persisting: false },
    // (900, 1000] holds 10 skewed points, all past early training (500)
    { name: "imbalance persisting after early training", history: points(600, 1000, skewed), step: 1000, stable: false, until: 100, persisting: true },
    { name: "imbalance during early training is not persisting", history: points(100, 400, skewed), step: 400, stable: false, until: 100, persisting: false },
    { name: "points after the advised step are ignored", history: [...points(800, 1000, balanced), { step: 1010, ...skewed }], step: 1000, stable: true, until: 0, persisting: false },
    { name: "no history", history: [], step: 1000, stable: false, until: 100, persisting: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = classifyHistory(c.history, c.step, opts);
      expect(got.stable).toBe(c.stable);
      expect(got.stepsUntilStable).toBe(c.until);
      expect(got.persisting).toBe(c.persisting);
    });
  }

  it("fits the z-loss trend over the window", () => {
    // z = 10 + 0.01 * step over 910..1000 -> slope 0.01
    const history = points(910, 1000, balanced).map((p) => ({ ...p, zLoss: 10 + 0.01 * p.step }));
    expect(classifyHistory(history, 1000, opts).zLossSlope).toBeCloseTo(0.01, 12);
    expect(classifyHistory(points(910, 1000, balanced), 1000, opts).zLossSlope).toBeNull();
  });
});
