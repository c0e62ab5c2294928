import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_RULES, type AlertRule } from "./alertRules";
import { evaluateAlert, type AlertEffect, type AlertState, type Observation } from "./evaluateAlert";

// threshold 2.0 above, for 2 s, keep firing 5 s, renotify every 60 s, stale after 10 s.
const rule: AlertRule = {
  ...DEFAULT_ALERT_RULES["ep-imbalance-high"],
  threshold: 2,
  forMs: 2_000,
  keepFiringMs: 5_000,
  renotifyMs: 60_000,
  noDataAfterMs: 10_000,
  noData: "keep",
};

/** run feeds (time, observation) pairs through the machine and returns the status and effects after each. */
function run(r: AlertRule, steps: Array<[number, number | null]>): Array<{ t: number; status: string; emit: AlertEffect[] }> {
  let state: AlertState | undefined;
  return steps.map(([t, v], i) => {
    const obs: Observation = v === null ? null : { value: v, step: i + 1 };
    const out = evaluateAlert(state, obs, r, t);
    state = out.state;
    return { t, status: out.state.status, emit: out.emit };
  });
}

const statuses = (xs: ReturnType<typeof run>) => xs.map((x) => x.status);
const effects = (xs: ReturnType<typeof run>) => xs.flatMap((x) => x.emit.map((e) => `${x.t}:${e}`));

describe("evaluateAlert", () => {
  const cases: Array<{ name: string; r?: AlertRule; steps: Array<[number, number | null]>; status: string[]; effects: string[] }> = [
    {
      name: "stays inactive below the threshold",
      steps: [[0, 1.5], [1_000, 2.0], [2_000, 1.9]],
      status: ["inactive", "inactive", "inactive"],
      effects: [],
    },
    {
      name: "holds for `for` before firing",
      steps: [[0, 3], [1_000, 3.5], [2_000, 3.2], [3_000, 4]],
      status: ["pending", "pending", "firing", "firing"],
      effects: ["0:pending", "2000:firing"],
    },
    {
      name: "fires after `for` even when the next value is late (the last value still stands)",
      steps: [[0, 3], [2_500, null]],
      status: ["pending", "firing"],
      effects: ["0:pending", "2500:firing"],
    },
    {
      name: "suppresses a flap shorter than `for`",
      steps: [[0, 3], [1_000, 1], [1_500, 3], [2_500, 1], [3_000, 1]],
      status: ["pending", "inactive", "pending", "inactive", "inactive"],
      effects: ["0:pending", "1000:cancelled", "1500:pending", "2500:cancelled"],
    },
    {
      name: "keeps firing through a short dip, then resolves after keepFiring",
      // Last true at 4 s: keep firing until 9 s.
      steps: [[0, 3], [2_000, 3], [3_000, 1], [4_000, 3], [5_000, 1], [8_000, 1], [9_000, 1]],
      status: ["pending", "firing", "firing", "firing", "firing", "firing", "resolved"],
      effects: ["0:pending", "2000:firing", "9000:resolved"],
    },
    {
      name: "resolves on a timer tick once keepFiring passed after the last value went below",
      steps: [[0, 3], [2_000, 3], [3_000, 1], [8_500, null]],
      status: ["pending", "firing", "firing", "resolved"],
      effects: ["0:pending", "2000:firing", "8500:resolved"],
    },
    {
      name: "re-notifies a long-firing alert",
      steps: [[0, 3], [2_000, 3], [61_000, 3], [62_000, 3], [122_000, 3]],
      status: ["pending", "firing", "firing", "firing", "firing"],
      effects: ["0:pending", "2000:firing", "62000:renotify", "122000:renotify"],
    },
    {
      name: "fires again after resolving",
      steps: [[0, 3], [2_000, 3], [3_000, 1], [8_000, 1], [9_000, 5], [11_000, 5]],
      status: ["pending", "firing", "firing", "resolved", "pending", "firing"],
      effects: ["0:pending", "2000:firing", "8000:resolved", "9000:pending", "11000:firing"],
    },
    {
      name: "no data with policy keep: a firing alert stays firing",
      steps: [[0, 3], [2_000, 3], [30_000, null]],
      status: ["pending", "firing", "firing"],
      effects: ["0:pending", "2000:firing"],
    },
    {
      name: "no data with policy resolve: resolves once stale and keepFiring passed",
      r: { ...rule, noData: "resolve" },
      // The last value stands until 12 s (stale after 10 s), then keep firing 5 s more.
      steps: [[0, 3], [2_000, 3], [11_000, null], [12_500, null], [16_500, null]],
      status: ["pending", "firing", "firing", "firing", "resolved"],
      effects: ["0:pending", "2000:firing", "16500:resolved"],
    },
    {
      name: "no data with policy alert: a silent series fires (rank stopped reporting)",
      r: { ...rule, threshold: 0, forMs: 0, keepFiringMs: 0, noData: "alert", noDataAfterMs: 30_000 },
      steps: [[0, 0], [20_000, null], [31_000, null], [40_000, 0]],
      status: ["inactive", "inactive", "firing", "resolved"],
      effects: ["31000:pending", "31000:firing", "40000:resolved"],
    },
    {
      name: "a zero hold fires at once",
      r: { ...rule, forMs: 0 },
      steps: [[0, 3]],
      status: ["firing"],
      effects: ["0:pending", "0:firing"],
    },
    {
      name: "below-threshold rules (headroom-style direction)",
      r: { ...rule, direction: "below", threshold: 0.1, forMs: 0 },
      steps: [[0, 0.5], [1_000, 0.05]],
      status: ["inactive", "firing"],
      effects: ["1000:pending", "1000:firing"],
    },
    {
      name: "disabling a firing rule resolves it",
      steps: [[0, 3], [2_000, 3]],
      status: ["pending", "firing"],
      effects: ["0:pending", "2000:firing"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = run(c.r ?? rule, c.steps);
      expect(statuses(out)).toEqual(c.status);
      expect(effects(out)).toEqual(c.effects);
    });
  }

  it("tracks the peak value and its step while pending and firing", () => {
    let st: AlertState | undefined;
    for (const [t, v, step] of [[0, 3, 10], [1_000, 6, 11], [2_000, 4, 12], [3_000, 5, 13]] as const) {
      st = evaluateAlert(st, { value: v, step }, rule, t).state;
    }
    expect(st).toMatchObject({ status: "firing", peakValue: 6, peakStep: 11, value: 5, step: 13, activeSinceMs: 0, firingSinceMs: 2_000 });
  });

  it("disabling a rule resolves a firing instance and cancels a pending one", () => {
    const firing = evaluateAlert(evaluateAlert(undefined, { value: 3, step: 1 }, { ...rule, forMs: 0 }, 0).state, null, { ...rule, enabled: false }, 1);
    expect(firing.state.status).toBe("resolved");
    expect(firing.emit).toEqual(["resolved"]);
    const pending = evaluateAlert(evaluateAlert(undefined, { value: 3, step: 1 }, rule, 0).state, null, { ...rule, enabled: false }, 1);
    expect(pending.state.status).toBe("inactive");
    expect(pending.emit).toEqual(["cancelled"]);
  });
});
