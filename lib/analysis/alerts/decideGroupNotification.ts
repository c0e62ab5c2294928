/**
 * When to notify about an alert group, with Alertmanager's timers: a new group waits `groupWaitMs` so the
 * layers that cross within a few steps of each other arrive in one message; after that a changed group
 * (members joined or resolved) is sent at most once per `groupIntervalMs`; an unchanged firing group is
 * sent again after `repeatIntervalMs`; a group whose members all resolved sends one "resolved" message and
 * ends. A pure function of (previous group state, the members firing now, now).
 */

/** GroupTiming: Alertmanager's group_wait, group_interval and repeat_interval, in ms (repeat 0 = never). */
export interface GroupTiming {
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

/** DEFAULT_GROUP_TIMING: 5 s to gather a burst, at most one update a minute, a reminder every 10 minutes. */
export const DEFAULT_GROUP_TIMING: GroupTiming = { groupWaitMs: 5_000, groupIntervalMs: 60_000, repeatIntervalMs: 600_000 };

/** GroupNotifyState: what a group remembers between evaluations. */
export interface GroupNotifyState {
  /** When the group got its first firing member. */
  createdMs: number;
  /** When the last message went out; null before the first. */
  lastSentMs: number | null;
  /** The member keys firing at the last message, sorted. */
  sent: string[];
}

/** GroupSend: the message to send: the group's first or changed state, a reminder, or its end. */
export type GroupSend = "firing" | "renotify" | "resolved";

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * decideGroupNotification advances one group. `firing` lists the keys of its members firing now. Returns
 * the next state (null once the group is over) and what to send, if anything; `resolved` lists the members
 * of the last message that no longer fire (Alertmanager sends them with the group's next message).
 */
export function decideGroupNotification(
  prev: GroupNotifyState | null,
  firing: readonly string[],
  nowMs: number,
  t: GroupTiming,
): { state: GroupNotifyState | null; send: GroupSend | null; resolved: string[] } {
  const now = [...firing].sort();
  if (prev === null) {
    if (now.length === 0) return { state: null, send: null, resolved: [] };
    prev = { createdMs: nowMs, lastSentMs: null, sent: [] };
  }
  const resolved = prev.sent.filter((k) => !now.includes(k));
  if (prev.lastSentMs === null) {
    // Nothing was said yet: a group that vanished inside its wait never notifies (a flap).
    if (now.length === 0) return { state: null, send: null, resolved: [] };
    if (nowMs - prev.createdMs < t.groupWaitMs) return { state: prev, send: null, resolved: [] };
    return { state: { ...prev, lastSentMs: nowMs, sent: now }, send: "firing", resolved: [] };
  }
  const since = nowMs - prev.lastSentMs;
  if (now.length === 0) {
    if (since < t.groupIntervalMs) return { state: prev, send: null, resolved: [] };
    return { state: null, send: "resolved", resolved };
  }
  if (!sameMembers(now, prev.sent)) {
    if (since < t.groupIntervalMs) return { state: prev, send: null, resolved: [] };
    return { state: { ...prev, lastSentMs: nowMs, sent: now }, send: "firing", resolved };
  }
  if (t.repeatIntervalMs > 0 && since >= t.repeatIntervalMs) {
    return { state: { ...prev, lastSentMs: nowMs }, send: "renotify", resolved: [] };
  }
  return { state: prev, send: null, resolved: [] };
}
