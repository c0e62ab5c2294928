/**
 * Human text for an alert: one line that names the layer or rank, the number, the step and the
 * threshold, as the banner, the alerts page and the webhook show it.
 */
import type { AlertRule } from "./alertRules";

/** AlertFacts: what the message is made of. */
export interface AlertFacts {
  runName: string;
  layer: number | null;
  rank: number | null;
  value: number;
  step: number;
  labels: Record<string, string | number>;
}

function fmt(v: number, digits = 2): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits);
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** formatAlertMessage describes one alert instance's current value against its rule. */
export function formatAlertMessage(rule: AlertRule, f: AlertFacts): string {
  const where = f.layer !== null ? `layer ${f.layer}` : f.rank !== null ? `rank ${f.rank}` : "the run";
  const at = `at step ${f.step}`;
  const l = f.labels;
  switch (rule.id) {
    case "ep-imbalance-high":
      return `${f.runName}: ${where}: EP rank ${l.epRank ?? "?"} of dispatch group edp ${l.edp ?? "?"} receives ${fmt(f.value)}x its group's mean tokens ${at} (threshold ${fmt(rule.threshold)}x)`;
    case "maxvio-high":
      return `${f.runName}: ${where}: MaxVio ${fmt(f.value)} ${at}: the hottest expert gets ${fmt(f.value + 1)}x the mean load (threshold ${fmt(rule.threshold)})`;
    case "drop-fraction-high":
      return `${f.runName}: ${where}: ${(f.value * 100).toFixed(1)}% of token assignments dropped by the capacity factor ${at} (threshold ${(rule.threshold * 100).toFixed(1)}%)`;
    case "aux-loss-high":
      return `${f.runName}: ${where}: load_balancing_loss ${fmt(f.value, 3)} ${at} (1.0 is balanced; threshold ${fmt(rule.threshold)})`;
    case "aux-loss-spike":
      return `${f.runName}: ${where}: load_balancing_loss ${fmt(Number(l.value ?? 0), 3)} is ${fmt(f.value)}x its recent median ${at}`;
    case "z-loss-high":
      return `${f.runName}: ${where}: z_loss ${fmt(f.value)} ${at} (threshold ${fmt(rule.threshold)}): router logits are growing`;
    case "z-loss-spike":
      return `${f.runName}: ${where}: z_loss ${fmt(Number(l.value ?? 0))} is ${fmt(f.value)}x its recent median ${at}: possible router logit blow-up`;
    case "memory-headroom-low":
      return `${f.runName}: ${where}: peak memory ${gib(Number(l.peakAllocatedBytes ?? 0))} of ${gib(Number(l.gpuMemoryBytes ?? 0))} (${(f.value * 100).toFixed(0)}%) ${at} (threshold ${(rule.threshold * 100).toFixed(0)}%)`;
    case "alloc-retries-growing":
      return `${f.runName}: ${where}: num_alloc_retries grew by ${fmt(f.value, 0)} to ${l.numAllocRetries ?? "?"} ${at}: the allocator is running out of room`;
    case "oom":
      return `${f.runName}: ${where} ran out of memory ${at}${l.layer !== undefined ? ` in layer ${l.layer}` : ""}${l.phase ? ` (${l.phase})` : ""}`;
    case "rank-silent":
      return `${f.runName}: ${where} stopped reporting (last step ${f.step})`;
  }
}
