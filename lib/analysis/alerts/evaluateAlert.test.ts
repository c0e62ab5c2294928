import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_RULES, type AlertRule } from "./alertRules";
import { evaluateAlert, type AlertEffect, type AlertState, type Observation } from "./evaluateAlert";

// A time-based rule (no step counts): threshold 2.0 above, for 2 s, keep firing 5 s, renotify every 60 s, stale after 10 s.
const rule: AlertRule = {
  ...DEFAULT_ALERT_RULES["ep-imbalance-high"],
  threshold: 2,
  forMs: 2_000,
  forSteps: 0,
  keepFiringMs: 5_000,
  keepFiringSteps: 0,
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

// A step-based rule: fires after 3 consecutive steps over 2.0, resolves after 4 consecutive healthy steps;
// with no steps at all it resolves 10 s after the condition last held.
const stepRule: AlertRule = { ...rule, forMs: 0, forSteps: 3, keepFiringMs: 10_000, keepFiringSteps: 4, renotifyMs: 0 };

/** runSteps feeds (time, value or null) pairs; each value is the next step. */
function runSteps(r: AlertRule, steps: Array<[number, number | null]>): ReturnType<typeof run> {
  return run(r, steps);
}

describe("evaluateAlert with step-based holds", () => {
  const cases: Array<{ name: string; r?: AlertRule; steps: Array<[number, number | null]>; status: string[]; effects: string[] }> = [
    {
      name: "fires on the forSteps-th consecutive step however fast the steps come",
      steps: [[0, 3], [10, 3], [20, 3]],
      status: ["pending", "pending", "firing"],
      effects: ["0:pending", "20:firing"],
    },
    {
      name: "fires on the forSteps-th step of a slow run, not before, even after a long time",
      steps: [[0, 3], [60_000, 3], [61_000, null], [120_000, 3]],
      status: ["pending", "pending", "pending", "firing"],
      effects: ["0:pending", "120000:firing"],
    },
    {
      name: "a healthy step in the hold cancels it",
      steps: [[0, 3], [10, 3], [20, 1], [30, 3], [40, 3]],
      status: ["pending", "pending", "inactive", "pending", "pending"],
      effects: ["0:pending", "20:cancelled", "30:pending"],
    },
    {
      name: "resolves after keepFiringSteps consecutive healthy steps at 5 steps/s (not 30 s later)",
      steps: [[0, 3], [200, 3], [400, 3], [600, 1.1], [800, 1.1], [1_000, 1.1], [1_200, 1.1]],
      status: ["pending", "pending", "firing", "firing", "firing", "firing", "resolved"],
      effects: ["0:pending", "400:firing", "1200:resolved"],
    },
    {
      name: "a step over the threshold restarts the healthy count",
      steps: [[0, 3], [1, 3], [2, 3], [3, 1], [4, 1], [5, 1], [6, 3], [7, 1], [8, 1], [9, 1], [10, 1]],
      status: ["pending", "pending", "firing", "firing", "firing", "firing", "firing", "firing", "firing", "firing", "resolved"],
      effects: ["0:pending", "2:firing", "10:resolved"],
    },
    {
      name: "a slow run's healthy steps resolve it by count even when minutes apart, not by the timer between them",
      r: { ...stepRule, keepFiringMs: 100_000 },
      steps: [[0, 3], [1, 3], [2, 3], [60_000, 1], [120_000, 1], [150_000, null], [180_000, 1], [240_000, 1]],
      status: ["pending", "pending", "firing", "firing", "firing", "firing", "firing", "resolved"],
      effects: ["0:pending", "2:firing", "240000:resolved"],
    },
    {
      name: "a run that goes silent after the condition cleared still resolves by time",
      steps: [[0, 3], [1, 3], [2, 3], [3, 1], [5_000, null], [10_003, null]],
      status: ["pending", "pending", "firing", "firing", "firing", "resolved"],
      effects: ["0:pending", "2:firing", "10003:resolved"],
    },
    {
      name: "a run silent while over the threshold keeps firing (no-data policy keep)",
      steps: [[0, 3], [1, 3], [2, 3], [60_000, null]],
      status: ["pending", "pending", "firing", "firing"],
      effects: ["0:pending", "2:firing"],
    },
    {
      name: "forSteps and forMs both must pass",
      r: { ...stepRule, forMs: 1_000 },
      steps: [[0, 3], [10, 3], [20, 3], [1_000, 3]],
      status: ["pending", "pending", "pending", "firing"],
      effects: ["0:pending", "1000:firing"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = runSteps(c.r ?? stepRule, c.steps);
      expect(statuses(out)).toEqual(c.status);
      expect(effects(out)).toEqual(c.effects);
    });
  }

  it("continues from a state stored before step counts existed", () => {
    const old = { ...evaluateAlert(undefined, { value: 3, step: 1 }, { ...stepRule, forSteps: 1 }, 0).state };
    delete old.heldSteps;
    delete old.healthySteps;
    let st: AlertState = old;
    for (let i = 2; i <= 5; i++) st = evaluateAlert(st, { value: 1, step: i }, stepRule, i).state;
    expect(st.status).toBe("resolved");
  });

  it("the shipped rules hold and keep firing in steps", () => {
    const r = DEFAULT_ALERT_RULES["ep-imbalance-high"];
    expect(r).toMatchObject({ forMs: 0, forSteps: 5, keepFiringSteps: 20 });
  });
});
