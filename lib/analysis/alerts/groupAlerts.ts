/**
 * Alert grouping, as Alertmanager's `group_by: [run, rule]`: an untrained router pushes 29 of 32 layers
 * over the EP-imbalance threshold within a few steps, and one line per layer buried what to act on. The
 * banner, /alerts, the advice panel, the log and webhooks show one entry per (run, rule) group, naming
 * how many layers or ranks, the worst one and since when; the per-instance state machines, episodes and
 * /metrics series stay per layer and rank.
 */
import { DEFAULT_ALERT_RULES, type AlertRuleId } from "./alertRules";

/** GroupableAlert: the fields of one firing alert instance that grouping reads. */
export interface GroupableAlert {
  id: string;
  runId: string;
  runName: string;
  ruleId: string;
  severity: "warning" | "critical";
  layer: number | null;
  rank: number | null;
  threshold: number;
  /** The value and step that fired it. */
  value: number;
  step: number;
  /** The latest value and step, when known. */
  lastValue: number | null;
  lastStep: number | null;
}

/** AlertGroup: the firing alerts of one rule in one run. */
export interface AlertGroup<A extends GroupableAlert = GroupableAlert> {
  /** "runId|ruleId": stable while the group has members. */
  key: string;
  runId: string;
  runName: string;
  ruleId: string;
  /** critical when any member is. */
  severity: "warning" | "critical";
  /** What the members are: layers, ranks, or the run itself. */
  unit: "layer" | "rank" | "run";
  /** Members in layer or rank order. */
  members: A[];
  /** How many layers (MoE) or ranks the run has, when known: "29 of 32 layers". */
  of: number | null;
  /** The member whose latest value is furthest past the threshold. */
  worst: A;
  /** The earliest step any member fired at. */
  sinceStep: number;
  threshold: number;
}

/** RunScopeSizes: how many MoE layers and ranks a run has, for "n of N". */
export interface RunScopeSizes {
  layers: number;
  ranks: number;
}

/** latestValue is the member's newest value (the firing value until a later one is known). */
export function latestValue(a: Pick<GroupableAlert, "value" | "lastValue">): number {
  return a.lastValue ?? a.value;
}

function directionOf(ruleId: string): "above" | "below" {
  return DEFAULT_ALERT_RULES[ruleId as AlertRuleId]?.direction ?? "above";
}

/**
 * groupAlerts groups firing alerts by (run, rule): critical groups first, then by how many members, then
 * by rule id (a stable order, so a live banner does not reshuffle). `sizes` gives each run's layer and
 * rank counts; without them a group says "29 layers" instead of "29 of 32 layers".
 */
export function groupAlerts<A extends GroupableAlert>(alerts: readonly A[], sizes: (runId: string) => RunScopeSizes | null = () => null): AlertGroup<A>[] {
  const byKey = new Map<string, A[]>();
  for (const a of alerts) {
    const key = `${a.runId}|${a.ruleId}`;
    const list = byKey.get(key);
    if (list) list.push(a);
    else byKey.set(key, [a]);
  }
  const groups: AlertGroup<A>[] = [];
  for (const [key, list] of byKey) {
    const members = [...list].sort((a, b) => (a.layer ?? a.rank ?? 0) - (b.layer ?? b.rank ?? 0));
    const first = members[0];
    const unit = first.layer !== null ? "layer" : first.rank !== null ? "rank" : "run";
    const above = directionOf(first.ruleId) === "above";
    const worst = members.reduce((w, a) => {
      const d = latestValue(a) - latestValue(w);
      return (above ? d > 0 : d < 0) ? a : w;
    });
    const size = sizes(first.runId);
    groups.push({
      key,
      runId: first.runId,
      runName: first.runName,
      ruleId: first.ruleId,
      severity: members.some((a) => a.severity === "critical") ? "critical" : "warning",
      unit,
      members,
      of: size === null || unit === "run" ? null : unit === "layer" ? size.layers : size.ranks,
      worst,
      sinceStep: Math.min(...members.map((a) => a.step)),
      threshold: worst.threshold,
    });
  }
  return groups.sort(
    (a, b) =>
      Number(b.severity === "critical") - Number(a.severity === "critical") ||
      b.members.length - a.members.length ||
      a.ruleId.localeCompare(b.ruleId) ||
      a.runId.localeCompare(b.runId),
  );
}

/** formatRuleValue writes a rule's value in its unit: "2.38x", "12.0%", "MaxVio 1.35". */
export function formatRuleValue(ruleId: string, v: number): string {
  const n = (x: number, d = 2) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(d));
  switch (ruleId) {
    case "ep-imbalance-high":
    case "aux-loss-spike":
    case "z-loss-spike":
      return `${n(v)}x`;
    case "drop-fraction-high":
      return `${(v * 100).toFixed(1)}%`;
    case "memory-headroom-low":
      return `${(v * 100).toFixed(0)}%`;
    case "alloc-retries-growing":
      return `+${n(v, 0)}`;
    case "aux-loss-high":
      return n(v, 3);
    default:
      return n(v);
  }
}

/** groupWhere names a member within its group: "layer 5", "rank 12" or "the run". */
export function groupWhere(a: Pick<GroupableAlert, "layer" | "rank">): string {
  return a.layer !== null ? `layer ${a.layer}` : a.rank !== null ? `rank ${a.rank}` : "the run";
}

/**
 * formatAlertGroup is the group's one line: "ep-imbalance-high on 29 of 32 layers, worst layer 5 at 2.38x
 * (threshold 2.00x), since step 11". A group of one names its member instead of counting.
 */
export function formatAlertGroup(g: AlertGroup): string {
  const count = g.members.length;
  const units = g.unit === "run" ? "" : `${g.unit}${(g.of ?? count) === 1 ? "" : "s"}`;
  // An OOM or a silent rank has no value to compare: name who instead of the worst.
  const valueless = g.ruleId === "oom" || g.ruleId === "rank-silent";
  const worstAt = `${formatRuleValue(g.ruleId, latestValue(g.worst))} (threshold ${formatRuleValue(g.ruleId, g.threshold)})`;
  if (g.unit === "run" || count === 1) {
    return `${g.ruleId} on ${groupWhere(g.worst)}${valueless ? "" : ` at ${worstAt}`}, since step ${g.sinceStep}`;
  }
  const on = g.of !== null ? `${count} of ${g.of} ${units}` : `${count} ${units}`;
  if (valueless) return `${g.ruleId} on ${on}, since step ${g.sinceStep}`;
  return `${g.ruleId} on ${on}, worst ${groupWhere(g.worst)} at ${worstAt}, since step ${g.sinceStep}`;
}
