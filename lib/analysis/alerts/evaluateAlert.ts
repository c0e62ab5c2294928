/**
 * The alert state machine: inactive -> pending -> firing -> resolved, one instance per
 * (rule, run, layer or rank). A pure function of (previous state, new observation, now) that
 * returns the next state and what the adapter should do; it never reads a clock or writes anything.
 *
 * Training is a step-based process whose speed varies 100x between runs (5 steps/s on a small
 * simulated run, one step a minute on a large one), so holds count steps as well as time: a rule
 * fires once its condition held for `forSteps` consecutive steps and `forMs`, and a firing rule
 * resolves after `keepFiringSteps` consecutive healthy steps. Time still decides when no steps
 * arrive: a silent run resolves `keepFiringMs` after its condition last held.
 */
import type { AlertRule } from "./alertRules";

/** AlertStatus: where an alert instance is. */
export type AlertStatus = "inactive" | "pending" | "firing" | "resolved";

/** AlertState: one alert instance's memory between evaluations. */
export interface AlertState {
  status: AlertStatus;
  /** When the condition started to hold (pending or firing). */
  activeSinceMs: number | null;
  firingSinceMs: number | null;
  resolvedAtMs: number | null;
  /** Last time the condition held. */
  lastTrueMs: number | null;
  /** Last time a value (any value) arrived. */
  lastDataMs: number | null;
  lastNotifiedMs: number | null;
  /** Whether the last value seen crossed the threshold. */
  lastHeld: boolean | null;
  value: number | null;
  step: number | null;
  peakValue: number | null;
  peakStep: number | null;
  /** The step the instance fired at (absent in states stored before it was kept). */
  firingSinceStep?: number | null;
  /** Consecutive observed steps on which the condition held (absent in states stored before step holds). */
  heldSteps?: number;
  /** Consecutive observed healthy steps since the condition last held. */
  healthySteps?: number;
}

/** Observation: a new value for the instance, or null to say "no new data, time passed". */
export type Observation = { value: number; step: number } | null;

/** AlertEffect: what the adapter must do after an evaluation. */
export type AlertEffect = "pending" | "firing" | "renotify" | "resolved" | "cancelled";

/** INITIAL_ALERT_STATE: an instance that never saw its condition hold. */
export const INITIAL_ALERT_STATE: AlertState = {
  status: "inactive",
  activeSinceMs: null,
  firingSinceMs: null,
  resolvedAtMs: null,
  lastTrueMs: null,
  lastDataMs: null,
  lastNotifiedMs: null,
  lastHeld: null,
  value: null,
  step: null,
  peakValue: null,
  peakStep: null,
  heldSteps: 0,
  healthySteps: 0,
};

/** conditionHolds tells whether a value crosses the rule's threshold in its direction. */
export function conditionHolds(rule: AlertRule, value: number): boolean {
  return rule.direction === "above" ? value > rule.threshold : value < rule.threshold;
}

function worse(rule: AlertRule, a: number, b: number | null): boolean {
  return b === null || (rule.direction === "above" ? a > b : a < b);
}

/**
 * keepFiringOver tells whether a firing instance whose condition no longer holds may resolve. With a step
 * count, a new healthy step resolves it once `keepFiringSteps` healthy steps came in a row (the run's speed
 * does not matter); between steps only time can, `keepFiringMs` after the condition last held and no
 * sooner than `keepFiringMs` after the last step (so a slow but live run is judged by its steps).
 * Without a step count (`keepFiringSteps` 0) it is Prometheus's keep_firing_for: time since last true.
 */
function keepFiringOver(rule: AlertRule, s: AlertState, newStep: boolean, nowMs: number): boolean {
  const sinceTrue = nowMs - (s.lastTrueMs ?? 0);
  if (rule.keepFiringSteps <= 0) return sinceTrue >= rule.keepFiringMs;
  if (newStep) return (s.healthySteps ?? 0) >= rule.keepFiringSteps;
  return sinceTrue >= rule.keepFiringMs && nowMs - (s.lastDataMs ?? 0) >= rule.keepFiringMs;
}

/** evaluateAlert advances one alert instance; `emit` lists the transitions to act on. */
export function evaluateAlert(
  prev: AlertState | undefined,
  obs: Observation,
  rule: AlertRule,
  nowMs: number,
): { state: AlertState; emit: AlertEffect[] } {
  const s: AlertState = { ...(prev ?? INITIAL_ALERT_STATE) };
  const emit: AlertEffect[] = [];

  // Does the condition hold now? From a new value; else from the no-data policy once the series is
  // stale; else the last value still stands (as a Prometheus series does until it goes stale).
  let holds: boolean | null;
  if (!rule.enabled) {
    holds = false;
  } else if (obs) {
    holds = conditionHolds(rule, obs.value);
    s.lastDataMs = nowMs;
    s.value = obs.value;
    s.step = obs.step;
    s.lastHeld = holds;
  } else if (s.lastDataMs !== null && nowMs - s.lastDataMs > rule.noDataAfterMs) {
    holds = rule.noData === "alert" ? true : rule.noData === "resolve" ? false : null;
  } else {
    holds = s.lastHeld;
  }
  if (holds === true) s.lastTrueMs = nowMs;
  // Step counts move only on new steps: a timer tick repeating the last value is not another step.
  if (obs) {
    s.heldSteps = holds ? (s.heldSteps ?? 0) + 1 : 0;
    s.healthySteps = holds ? 0 : (s.healthySteps ?? 0) + 1;
  }

  if (holds === true) {
    if (s.status === "inactive" || s.status === "resolved") {
      s.status = "pending";
      s.activeSinceMs = nowMs;
      s.firingSinceMs = null;
      s.resolvedAtMs = null;
      s.peakValue = null;
      s.peakStep = null;
      emit.push("pending");
    }
    if (obs && worse(rule, obs.value, s.peakValue)) {
      s.peakValue = obs.value;
      s.peakStep = obs.step;
    }
    const heldLongEnough = nowMs - (s.activeSinceMs ?? nowMs) >= rule.forMs && (s.heldSteps ?? 0) >= rule.forSteps;
    if (s.status === "pending" && heldLongEnough) {
      s.status = "firing";
      s.firingSinceMs = nowMs;
      s.firingSinceStep = s.step;
      s.lastNotifiedMs = nowMs;
      emit.push("firing");
      return { state: s, emit };
    }
  } else if (holds === false) {
    if (s.status === "pending") {
      // Flap suppression: a condition that did not hold for `forMs` never fires.
      s.status = "inactive";
      s.activeSinceMs = null;
      emit.push("cancelled");
      return { state: s, emit };
    }
    if (s.status === "firing" && (!rule.enabled || keepFiringOver(rule, s, obs !== null, nowMs))) {
      s.status = "resolved";
      s.resolvedAtMs = nowMs;
      s.activeSinceMs = null;
      emit.push("resolved");
      return { state: s, emit };
    }
  }
  if (s.status === "firing" && rule.renotifyMs > 0 && s.lastNotifiedMs !== null && nowMs - s.lastNotifiedMs >= rule.renotifyMs) {
    s.lastNotifiedMs = nowMs;
    emit.push("renotify");
  }
  return { state: s, emit };
}
