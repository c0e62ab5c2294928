import { formatAlertGroup, groupAlerts, groupWhere, type RunScopeSizes } from "../analysis/alerts/groupAlerts";
import type { AlertDto } from "../dto";
import { formatDuration } from "./formatDuration";
import { formatRatio } from "./formatCount";
import { formatRelativeTime } from "./formatRelativeTime";

/** SEVERITY_STYLE: theme-token classes per severity (critical = danger, warning = warn). */
export const SEVERITY_STYLE: Record<AlertDto["severity"], { badge: string; border: string; text: string }> = {
  critical: { badge: "bg-danger-bg text-danger", border: "border-danger/50", text: "text-danger" },
  warning: { badge: "bg-warn-bg text-warn", border: "border-warn/50", text: "text-warn" },
};

/** alertWhere names what an alert is about: "layer 3", "rank 12" or "run". */
export function alertWhere(a: Pick<AlertDto, "layer" | "rank">): string {
  return a.layer != null ? `layer ${a.layer}` : a.rank != null ? `rank ${a.rank}` : "run";
}

/** alertHref links to the run page with the alert's layer and step selected, scrolled to the advice panel. */
export function alertHref(a: Pick<AlertDto, "runId" | "layer" | "step">): string {
  const q = new URLSearchParams();
  if (a.layer != null) q.set("layer", String(a.layer));
  q.set("step", String(a.step));
  return `/runs/${encodeURIComponent(a.runId)}?${q.toString()}#advice`;
}

/** alertDetail drops the "run name: where: " prefix of an alert message where the context already says both. */
export function alertDetail(a: Pick<AlertDto, "message" | "runName" | "layer" | "rank">): string {
  let m = a.message;
  if (m.startsWith(`${a.runName}: `)) m = m.slice(a.runName.length + 2);
  const where = `${alertWhere(a)}: `;
  if (m.startsWith(where)) m = m.slice(where.length);
  return m;
}

/** BannerItem: one firing alert as the live banner shows it. */
export interface BannerItem {
  id: string;
  ruleId: string;
  severity: AlertDto["severity"];
  message: string;
  where: string;
  since: string;
  sinceIso: string;
  /** The latest value and step, e.g. "now 1.93 at step 147". */
  latest: string;
  href: string;
}

/** prepareAlertBanner keeps the firing alerts, critical first then newest, and formats them for the banner. */
export function prepareAlertBanner(alerts: readonly AlertDto[], nowMs: number): BannerItem[] {
  return alerts
    .filter((a) => a.status === "firing")
    .sort((a, b) => Number(b.severity === "critical") - Number(a.severity === "critical") || Date.parse(b.firedAt) - Date.parse(a.firedAt))
    .map((a) => ({
      id: a.id,
      ruleId: a.ruleId,
      severity: a.severity,
      message: alertDetail(a),
      where: alertWhere(a),
      since: formatRelativeTime(a.firedAt, nowMs),
      sinceIso: a.firedAt,
      latest: `now ${formatRatio(a.lastValue ?? a.value)} at step ${a.lastStep ?? a.step}, peak ${formatRatio(a.peakValue)} at step ${a.peakStep}`,
      href: alertHref(a),
    }));
}

/** AlertHistoryRow: one alert episode on the alerts page. */
export interface AlertHistoryRow {
  id: string;
  runId: string;
  runName: string;
  ruleId: string;
  severity: AlertDto["severity"];
  status: AlertDto["status"];
  where: string;
  message: string;
  started: string;
  startedIso: string;
  firedIso: string;
  peak: string;
  resolved: string;
  duration: string;
  href: string;
}

/**
 * prepareAlertHistory orders alerts firing first (newest first), then resolved (newest first), with the
 * peak value and step, and the duration from firing to resolution (or until now while firing).
 */
export function prepareAlertHistory(alerts: readonly AlertDto[], nowMs: number): AlertHistoryRow[] {
  return [...alerts]
    .sort((a, b) => Number(b.status === "firing") - Number(a.status === "firing") || Date.parse(b.firedAt) - Date.parse(a.firedAt))
    .map((a) => {
      const end = a.resolvedAt ? Date.parse(a.resolvedAt) : nowMs;
      return {
        id: a.id,
        runId: a.runId,
        runName: a.runName,
        ruleId: a.ruleId,
        severity: a.severity,
        status: a.status,
        where: alertWhere(a),
        message: alertDetail(a),
        started: new Date(a.startedAt).toISOString().replace("T", " ").slice(0, 19),
        startedIso: a.startedAt,
        firedIso: a.firedAt,
        peak: `${formatRatio(a.peakValue)} @ step ${a.peakStep}`,
        resolved: a.resolvedAt ? new Date(a.resolvedAt).toISOString().replace("T", " ").slice(0, 19) : "firing",
        duration: `${formatDuration(end - Date.parse(a.firedAt))}${a.resolvedAt ? "" : " so far"}`,
        href: alertHref(a),
      };
    });
}

/** AlertGroupItem: one (run, rule) group of firing alerts, as the banner, /alerts and the advice panel show it. */
export interface AlertGroupItem {
  key: string;
  runId: string;
  runName: string;
  ruleId: string;
  severity: AlertDto["severity"];
  /** "ep-imbalance-high on 29 of 32 layers, worst layer 5 at 2.38x (threshold 2.00x), since step 11". */
  headline: string;
  /** "29 of 32 layers", "rank 3". */
  extent: string;
  count: number;
  since: string;
  sinceIso: string;
  /** The worst member's layer and step, scrolled to the advice. */
  href: string;
  /** Ids of the member episodes, in layer or rank order. */
  memberIds: string[];
  members: BannerItem[];
}

/**
 * prepareAlertGroups groups firing alerts by (run, rule) (groupAlerts, the function the webhook messages
 * use) and formats each group with its members. `sizes` gives a run's MoE layer and rank counts.
 */
export function prepareAlertGroups(
  alerts: readonly AlertDto[],
  nowMs: number,
  sizes: (runId: string) => RunScopeSizes | null = () => null,
): AlertGroupItem[] {
  const firing = alerts.filter((a) => a.status === "firing");
  const banner = new Map(prepareAlertBanner(firing, nowMs).map((b) => [b.id, b]));
  return groupAlerts(firing, sizes).map((g) => {
    const firstFired = g.members.reduce((a, b) => (Date.parse(b.firedAt) < Date.parse(a.firedAt) ? b : a));
    const n = g.members.length;
    const extent = g.unit === "run" || n === 1 ? groupWhere(g.worst) : `${n}${g.of !== null ? ` of ${g.of}` : ""} ${g.unit}s`;
    return {
      key: g.key,
      runId: g.runId,
      runName: g.runName,
      ruleId: g.ruleId,
      severity: g.severity,
      headline: formatAlertGroup(g),
      extent,
      count: n,
      since: formatRelativeTime(firstFired.firedAt, nowMs),
      sinceIso: firstFired.firedAt,
      href: alertHref({ ...g.worst, step: g.worst.lastStep ?? g.worst.step }),
      memberIds: g.members.map((m) => m.id),
      members: g.members.map((m) => banner.get(m.id)!),
    };
  });
}
