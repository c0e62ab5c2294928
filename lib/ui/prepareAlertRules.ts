import { ALERT_RULE_IDS, type AlertRule, type AlertRuleId } from "../analysis/alerts/alertRules";
import type { AlertRulesDto } from "../dto";
import { formatDuration } from "./formatDuration";

/** RuleField: an overridable field of an alert rule, in the editor's column order. */
export type RuleField = "threshold" | "forSteps" | "forMs" | "keepFiringSteps" | "keepFiringMs" | "renotifyMs" | "noData" | "enabled" | "severity";

/** RULE_FIELDS: the editor's columns with their labels and input kinds. */
export const RULE_FIELDS: ReadonlyArray<{ field: RuleField; label: string; kind: "number" | "ms" | "bool" | "enum"; options?: readonly string[] }> = [
  { field: "threshold", label: "threshold", kind: "number" },
  { field: "forSteps", label: "for (steps)", kind: "number" },
  { field: "forMs", label: "for (ms)", kind: "ms" },
  { field: "keepFiringSteps", label: "resolve after (healthy steps)", kind: "number" },
  { field: "keepFiringMs", label: "keep firing if silent (ms)", kind: "ms" },
  { field: "renotifyMs", label: "re-notify (ms)", kind: "ms" },
  { field: "noData", label: "no data", kind: "enum", options: ["keep", "resolve", "alert"] },
  { field: "enabled", label: "enabled", kind: "bool" },
  { field: "severity", label: "severity", kind: "enum", options: ["warning", "critical"] },
];

/** RuleCell: one field of one rule: the shipped default, this scope's override and the effective value, formatted. */
export interface RuleCell {
  field: RuleField;
  defaultText: string;
  overrideText: string | null;
  effectiveText: string;
  /** The effective value differs from the default (an override here or in a wider scope). */
  changed: boolean;
}

/** RuleRow: one alert rule in the editor. */
export interface RuleRow {
  id: AlertRuleId;
  summary: string;
  scope: string;
  cells: RuleCell[];
  overridden: boolean;
}

/** RuleDrafts: the editor's text per rule and field; "" (or absent) means no override. */
export type RuleDrafts = Partial<Record<AlertRuleId, Partial<Record<RuleField, string>>>>;

function text(kind: (typeof RULE_FIELDS)[number]["kind"], v: unknown): string {
  if (v === undefined || v === null) return "–";
  if (kind === "ms" && typeof v === "number") {
    if (v >= Number.MAX_SAFE_INTEGER) return "forever";
    return v === 0 ? "0" : `${v} (${formatDuration(v)})`;
  }
  return String(v);
}

/** prepareAlertRules lays out defaults, overrides and effective values per rule and field. */
export function prepareAlertRules(dto: AlertRulesDto): RuleRow[] {
  const defaults = dto.defaults as Record<string, AlertRule>;
  const effective = dto.effective as Record<string, AlertRule>;
  const overrides = dto.overrides as Record<string, Partial<AlertRule> | undefined>;
  return ALERT_RULE_IDS.filter((id) => defaults[id]).map((id): RuleRow => {
    const d = defaults[id];
    const e = effective[id] ?? d;
    const o = overrides[id] ?? {};
    const cells = RULE_FIELDS.map(({ field, kind }): RuleCell => ({
      field,
      defaultText: text(kind, d[field]),
      overrideText: o[field] === undefined ? null : text(kind, o[field]),
      effectiveText: text(kind, e[field]),
      changed: e[field] !== d[field],
    }));
    return { id, summary: d.summary, scope: d.scope, cells, overridden: Object.keys(o).length > 0 };
  });
}

/** draftsFromOverrides turns stored overrides into the editor's text fields. */
export function draftsFromOverrides(overrides: Record<string, unknown>): RuleDrafts {
  const out: RuleDrafts = {};
  for (const id of ALERT_RULE_IDS) {
    const o = overrides[id] as Record<string, unknown> | undefined;
    if (!o) continue;
    const fields: Partial<Record<RuleField, string>> = {};
    for (const { field } of RULE_FIELDS) if (o[field] !== undefined) fields[field] = String(o[field]);
    out[id] = fields;
  }
  return out;
}

/**
 * buildRuleOverrides turns the editor's text into the PUT body. Blank fields are left out; numbers and
 * booleans are parsed, and anything that does not parse is sent as typed so the API's validation names
 * the field. Every rule id is present (an empty object when nothing is overridden); other fields of the
 * stored overrides (noDataAfterMs, window) are kept.
 */
export function buildRuleOverrides(drafts: RuleDrafts, stored: Record<string, unknown> = {}): Record<AlertRuleId, Record<string, unknown>> {
  const out = {} as Record<AlertRuleId, Record<string, unknown>>;
  for (const id of ALERT_RULE_IDS) {
    const keep: Record<string, unknown> = { ...((stored[id] as Record<string, unknown> | undefined) ?? {}) };
    for (const { field } of RULE_FIELDS) delete keep[field];
    const d = drafts[id] ?? {};
    for (const { field, kind } of RULE_FIELDS) {
      const raw = d[field]?.trim() ?? "";
      if (raw === "") continue;
      if (kind === "number" || kind === "ms") {
        const n = Number(raw);
        keep[field] = Number.isFinite(n) ? n : raw;
      } else if (kind === "bool") {
        keep[field] = raw === "true" ? true : raw === "false" ? false : raw;
      } else {
        keep[field] = raw;
      }
    }
    out[id] = keep;
  }
  return out;
}
