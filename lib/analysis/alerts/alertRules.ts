/**
 * Alert rules: what is watched, the threshold, and the timing that keeps per-step noise from
 * flapping (Prometheus alerting-rule semantics: `for`, `keep_firing_for`, re-notify, no-data).
 * Defaults are tuned for the early-training window where MoE runs die (steps 100-300 of a
 * from-scratch run); users override them globally (config file, UI) and per run.
 */
import { z } from "zod";
import { InvalidInput } from "../errors";

/** ALERT_RULE_IDS: every rule the product evaluates. */
export const ALERT_RULE_IDS = [
  "ep-imbalance-high",
  "maxvio-high",
  "drop-fraction-high",
  "aux-loss-high",
  "aux-loss-spike",
  "z-loss-high",
  "z-loss-spike",
  "memory-headroom-low",
  "alloc-retries-growing",
  "oom",
  "rank-silent",
] as const;

/** AlertRuleId: one of ALERT_RULE_IDS. */
export type AlertRuleId = (typeof ALERT_RULE_IDS)[number];

/** NoDataPolicy: what a rule does when its series stops: keep its state, resolve, or alert. */
export type NoDataPolicy = "keep" | "resolve" | "alert";

/** AlertRule: one rule with its threshold and timing. */
export interface AlertRule {
  id: AlertRuleId;
  enabled: boolean;
  severity: "warning" | "critical";
  /** Alerts are kept per layer, per rank, or per run. */
  scope: "layer" | "rank" | "run";
  /** The condition is value > threshold (value < threshold for memory-headroom-low... see `direction`). */
  threshold: number;
  direction: "above" | "below";
  /** How long the condition must hold before the alert fires ("for"); both this and forSteps must pass. */
  forMs: number;
  /** On how many consecutive steps the condition must hold before the alert fires (0 or 1: the first). */
  forSteps: number;
  /**
   * How long a firing alert stays firing after the condition clears ("keep_firing_for"). With
   * keepFiringSteps > 0 it only applies while no steps arrive (a silent run still resolves by time).
   */
  keepFiringMs: number;
  /** After how many consecutive healthy steps a firing alert resolves; 0 = by keepFiringMs alone. */
  keepFiringSteps: number;
  /** How often a still-firing alert is sent again to webhooks; 0 = never. */
  renotifyMs: number;
  noData: NoDataPolicy;
  /** Series older than this count as no data. */
  noDataAfterMs: number;
  /** For spike rules: how many previous samples form the baseline (their median). */
  window: number;
  summary: string;
}

/**
 * Holds count steps, not seconds, so a rule behaves the same at 5 steps/s and at one step a minute: a
 * condition must hold on 5 consecutive steps to fire, and a firing alert resolves after 20 consecutive
 * healthy steps (30 s of keep-firing was ~150 steps at 5 steps/s: alerts fired on with "now 1.11"). The
 * 2-minute keep-firing time only resolves an alert of a run that stopped sending steps.
 */
const base = {
  enabled: true, direction: "above" as const, forMs: 0, forSteps: 5, keepFiringMs: 120_000, keepFiringSteps: 20,
  renotifyMs: 600_000, noData: "keep" as const, noDataAfterMs: 60_000, window: 0,
};

/** DEFAULT_ALERT_RULES: the shipped rules. */
export const DEFAULT_ALERT_RULES: Record<AlertRuleId, AlertRule> = {
  "ep-imbalance-high": {
    ...base, id: "ep-imbalance-high", severity: "critical", scope: "layer", threshold: 2.0,
    summary: "An EP rank receives more than threshold x its dispatch group's mean tokens: the rank that will run out of memory first",
  },
  "maxvio-high": {
    ...base, id: "maxvio-high", severity: "warning", scope: "layer", threshold: 1.0,
    summary: "MaxVio (hottest expert load / mean - 1) above threshold: the router is sending tokens to a few experts",
  },
  "drop-fraction-high": {
    ...base, id: "drop-fraction-high", severity: "warning", scope: "layer", threshold: 0.05,
    summary: "More than threshold of the token assignments are dropped by the capacity factor",
  },
  "aux-loss-high": {
    ...base, id: "aux-loss-high", severity: "warning", scope: "layer", threshold: 1.5,
    summary: "load_balancing_loss above threshold (1.0 is perfectly balanced, E/k the worst)",
  },
  "aux-loss-spike": {
    ...base, id: "aux-loss-spike", severity: "warning", scope: "layer", threshold: 1.3, forSteps: 1, window: 20,
    summary: "load_balancing_loss jumped above threshold x its recent median",
  },
  "z-loss-high": {
    ...base, id: "z-loss-high", severity: "warning", scope: "layer", threshold: 100,
    summary: "z_loss (mean logsumexp^2 of router logits) above threshold: router logits are growing",
  },
  "z-loss-spike": {
    ...base, id: "z-loss-spike", severity: "warning", scope: "layer", threshold: 2.0, forSteps: 1, window: 20,
    summary: "z_loss jumped above threshold x its recent median: an early sign of router logit blow-up",
  },
  "memory-headroom-low": {
    ...base, id: "memory-headroom-low", severity: "critical", scope: "rank", threshold: 0.92,
    summary: "Peak allocated memory above threshold of the GPU's memory",
  },
  "alloc-retries-growing": {
    ...base, id: "alloc-retries-growing", severity: "warning", scope: "rank", threshold: 0, forSteps: 1,
    summary: "num_alloc_retries grew: the caching allocator had to free and retry, the step before an OOM",
  },
  oom: {
    ...base, id: "oom", severity: "critical", scope: "rank", threshold: 0, forSteps: 0, keepFiringMs: Number.MAX_SAFE_INTEGER, keepFiringSteps: 0, renotifyMs: 0,
    summary: "A rank ran out of memory",
  },
  "rank-silent": {
    ...base, id: "rank-silent", severity: "warning", scope: "rank", threshold: 0, forSteps: 0, keepFiringMs: 0, keepFiringSteps: 0, noData: "alert", noDataAfterMs: 30_000,
    summary: "A rank stopped reporting",
  },
};

/** RuleOverrideSchema: the fields a user may override for one rule (config file, UI, API). */
export const RuleOverrideSchema = z
  .object({
    enabled: z.boolean(),
    severity: z.enum(["warning", "critical"]),
    threshold: z.number().finite(),
    forMs: z.number().int().min(0),
    forSteps: z.number().int().min(0).max(100_000),
    keepFiringMs: z.number().int().min(0),
    keepFiringSteps: z.number().int().min(0).max(100_000),
    renotifyMs: z.number().int().min(0),
    noData: z.enum(["keep", "resolve", "alert"]),
    noDataAfterMs: z.number().int().min(1_000),
    window: z.number().int().min(1).max(1_000),
  })
  .partial()
  .strict();

/** RuleOverrides: per-rule partial overrides. */
export type RuleOverrides = Partial<Record<AlertRuleId, z.infer<typeof RuleOverrideSchema>>>;

/** RuleOverridesSchema validates a whole overrides object keyed by rule id. */
export const RuleOverridesSchema = z.partialRecord(z.enum(ALERT_RULE_IDS), RuleOverrideSchema);

/** parseRuleOverrides validates overrides from a file, the UI or the API, naming the bad field. */
export function parseRuleOverrides(input: unknown, source: string): RuleOverrides {
  const r = RuleOverridesSchema.safeParse(input ?? {});
  if (!r.success) {
    const i = r.error.issues[0];
    const where = i.path.join(".");
    throw new InvalidInput(`${source}: ${where ? `${where}: ` : ""}${i.message}`, where || source);
  }
  return r.data as RuleOverrides;
}

/** resolveAlertRules applies global then per-run overrides to the defaults. */
export function resolveAlertRules(...layers: Array<RuleOverrides | undefined>): Record<AlertRuleId, AlertRule> {
  const out = {} as Record<AlertRuleId, AlertRule>;
  for (const id of ALERT_RULE_IDS) {
    let rule = { ...DEFAULT_ALERT_RULES[id] };
    for (const o of layers) if (o?.[id]) rule = { ...rule, ...o[id] };
    out[id] = rule;
  }
  return out;
}
