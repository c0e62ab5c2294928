/**
 * Where alert rule overrides live: an optional JSON config file (global, read at start), the
 * database's global row (set in the UI or API) and one row per run. Later layers win.
 */
import fs from "node:fs";
import {
  parseRuleOverrides,
  resolveAlertRules,
  type AlertRule,
  type AlertRuleId,
  type RuleOverrides,
} from "../analysis/alerts/alertRules";
import type { Db } from "./db";

/** GLOBAL_RULES_KEY is the runId of the global overrides row. */
export const GLOBAL_RULES_KEY = "";

/** loadRuleOverridesFile reads a JSON overrides file ({"ep-imbalance-high": {"threshold": 1.8}, ...}). */
export function loadRuleOverridesFile(file: string | undefined): RuleOverrides {
  if (!file) return {};
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`alert rules file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`alert rules file ${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseRuleOverrides(json, `alert rules file ${file}`);
}

/** getRuleOverrides returns the stored overrides for a run (or the global ones for ""). */
export async function getRuleOverrides(db: Db, runId: string): Promise<RuleOverrides> {
  const row = await db.prisma.alertRuleOverride.findUnique({ where: { runId } });
  return row ? (JSON.parse(row.rules) as RuleOverrides) : {};
}

/** setRuleOverrides validates and stores overrides for a run (or the global ones for ""). */
export async function setRuleOverrides(db: Db, runId: string, input: unknown, nowMs: number): Promise<RuleOverrides> {
  const rules = parseRuleOverrides(input, "alert rule overrides");
  const data = { rules: JSON.stringify(rules), updatedAtMs: BigInt(nowMs) };
  await db.prisma.alertRuleOverride.upsert({ where: { runId }, create: { runId, ...data }, update: data });
  return rules;
}

/** effectiveRules resolves defaults < file < global < run overrides. */
export async function effectiveRules(db: Db, runId: string | null, file: RuleOverrides = {}): Promise<Record<AlertRuleId, AlertRule>> {
  const global = await getRuleOverrides(db, GLOBAL_RULES_KEY);
  const run = runId ? await getRuleOverrides(db, runId) : {};
  return resolveAlertRules(file, global, run);
}
