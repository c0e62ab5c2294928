/**
 * Data access for alerts: episodes, deliveries and rule overrides as plain DTOs, and the gauges the
 * Prometheus endpoint exposes.
 */
import { envSetting } from "../../runtime/env";
import type { Alert as AlertRow } from "../../../generated/prisma/client";
import { DEFAULT_ALERT_RULES } from "../../analysis/alerts/alertRules";
import type { AlertDeliveryDto, AlertDto, AlertRulesDto } from "../../dto";
import { effectiveRules, getRuleOverrides, GLOBAL_RULES_KEY, loadRuleOverridesFile, setRuleOverrides } from "../../store/alertRulesStore";
import { getDb } from "./webDb";

function alertOf(a: AlertRow & { run: { name: string } }): AlertDto {
  const iso = (ms: bigint | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
  return {
    id: a.id,
    runId: a.runId,
    runName: a.run.name,
    ruleId: a.ruleId,
    scope: a.scope,
    layer: a.layer,
    rank: a.rank,
    severity: a.severity as AlertDto["severity"],
    status: a.status as AlertDto["status"],
    threshold: a.threshold,
    value: a.value,
    step: a.step,
    peakValue: a.peakValue,
    peakStep: a.peakStep,
    lastValue: a.lastValue,
    lastStep: a.lastStep,
    labels: JSON.parse(a.labels) as AlertDto["labels"],
    message: a.message,
    startedAt: iso(a.startedAtMs)!,
    firedAt: iso(a.firedAtMs)!,
    resolvedAt: iso(a.resolvedAtMs),
  };
}

/** listAlerts returns alert episodes, firing first, then the most recent. */
export async function listAlerts(opts: { runId?: string; status?: "firing" | "resolved"; limit?: number } = {}): Promise<AlertDto[]> {
  const db = await getDb();
  const rows = await db.prisma.alert.findMany({
    where: { ...(opts.runId ? { runId: opts.runId } : {}), ...(opts.status ? { status: opts.status } : {}) },
    include: { run: { select: { name: true } } },
    orderBy: [{ status: "asc" }, { firedAtMs: "desc" }],
    take: opts.limit ?? 200,
  });
  return rows.map(alertOf);
}

/** listDeliveries returns the webhook delivery log of one alert, or null if the alert is unknown. */
export async function listDeliveries(alertId: string): Promise<AlertDeliveryDto[] | null> {
  const db = await getDb();
  const alert = await db.prisma.alert.findUnique({ where: { id: alertId }, select: { id: true } });
  if (!alert) return null;
  const rows = await db.prisma.alertDelivery.findMany({ where: { alertId }, orderBy: { atMs: "asc" } });
  return rows.map((d) => ({ event: d.event, url: d.url, attempt: d.attempt, ok: d.ok, statusCode: d.statusCode, error: d.error, at: new Date(Number(d.atMs)).toISOString() }));
}

/** getAlertRules returns defaults, overrides and the effective rules for a run (or globally for null). */
export async function getAlertRules(runId: string | null): Promise<AlertRulesDto> {
  const db = await getDb();
  const file = loadRuleOverridesFile(envSetting("ALERT_RULES_FILE"));
  return {
    runId,
    defaults: DEFAULT_ALERT_RULES,
    overrides: await getRuleOverrides(db, runId ?? GLOBAL_RULES_KEY),
    effective: await effectiveRules(db, runId, file),
  };
}

/** putAlertRules stores overrides for a run (or globally for null); the collector picks them up within 5 s. */
export async function putAlertRules(runId: string | null, overrides: unknown): Promise<AlertRulesDto> {
  const db = await getDb();
  await setRuleOverrides(db, runId ?? GLOBAL_RULES_KEY, overrides, Date.now());
  return getAlertRules(runId);
}
