/**
 * The alert state machine: inactive -> pending -> firing -> resolved, one instance per
 * (rule, run, layer or rank). A pure function of (previous state, new observation, now) that
 * returns the next state and what the adapter should do; it never reads a clock or writes anything.
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
};

/** conditionHolds tells whether a value crosses the rule's threshold in its direction. */
export function conditionHolds(rule: AlertRule, value: number): boolean {
  return rule.direction === "above" ? value > rule.threshold : value < rule.threshold;
}

function worse(rule: AlertRule, a: number, b: number | null): boolean {
  return b === null || (rule.direction === "above" ? a > b : a < b);
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
    if (s.status === "pending" && nowMs - (s.activeSinceMs ?? nowMs) >= rule.forMs) {
      s.status = "firing";
      s.firingSinceMs = nowMs;
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
    if (s.status === "firing" && (!rule.enabled || nowMs - (s.lastTrueMs ?? 0) >= rule.keepFiringMs)) {
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
