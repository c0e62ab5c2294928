import type { Metadata } from "next";
import Link from "next/link";
import { AlertGroupList } from "@/components/AlertGroupList";
import { AlertHistoryTable } from "@/components/AlertHistoryTable";
import { AlertRulesEditor } from "@/components/AlertRulesEditor";
import { AlertsFilter } from "@/components/AlertsFilter";
import { LiveRunsRefresher } from "@/components/LiveRunsRefresher";
import { getAlertRules, listAlerts } from "@/lib/web/data/alertQueries";
import { getRun, listRuns } from "@/lib/web/data/queries";
import { prepareAlertGroups, prepareAlertHistory } from "@/lib/ui/prepareAlerts";

export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Alerts" };

type SearchParams = Record<string, string | string[] | undefined>;

function one(sp: SearchParams, name: string): string | undefined {
  const v = sp[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * AlertsPage: firing alerts first, one line per (run, rule) group expandable to its episodes, then history,
 * filterable by run and status (in the URL); global alert rules below.
 */
export default async function AlertsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const runId = one(sp, "run") || undefined;
  const rawStatus = one(sp, "status");
  const status = rawStatus === "firing" || rawStatus === "resolved" ? rawStatus : undefined;
  const [alerts, runs, rules] = await Promise.all([listAlerts({ runId, status, limit: 500 }), listRuns(), getAlertRules(null)]);
  const now = Date.now();
  const rows = prepareAlertHistory(alerts, now);
  const simulated = new Set(runs.filter((r) => r.simulated).map((r) => r.id));
  const firing = rows.filter((r) => r.status === "firing");
  const history = rows.filter((r) => r.status !== "firing");
  // "29 of 32 layers" needs each firing run's MoE layer count; a handful of runs fire at once.
  const firingRuns = [...new Set(alerts.filter((a) => a.status === "firing").map((a) => a.runId))];
  const details = new Map((await Promise.all(firingRuns.map((id) => getRun(id)))).filter((r) => r !== null).map((r) => [r.id, r]));
  const groups = prepareAlertGroups(alerts, now, (id) => {
    const r = details.get(id);
    return r ? { layers: r.moeLayers.length, ranks: r.worldSize } : null;
  });
  const rowById = new Map(firing.map((r) => [r.id, r]));

  return (
    <div className="space-y-4" data-testid="alerts-page">
      <div className="flex flex-wrap items-center gap-4">
        <h1 className="text-lg font-semibold">Alerts</h1>
        <span className="text-xs text-muted" data-testid="alerts-count">
          {groups.length} rule{groups.length === 1 ? "" : "s"} firing ({firing.length} layer or rank alert{firing.length === 1 ? "" : "s"}) · {history.length} resolved
          {alerts.length >= 500 ? " (newest 500)" : ""}
        </span>
        <span className="ml-auto">
          <LiveRunsRefresher />
        </span>
      </div>
      <AlertsFilter runs={runs.map((r) => ({ id: r.id, name: r.name, runKey: r.runKey }))} runId={runId ?? null} status={status ?? null} />
      <section className="space-y-2">
        <h2 className="text-sm font-semibold">
          Firing <span className="font-normal text-muted">({groups.length} by rule and run)</span>
        </h2>
        {firing.length === 0 ? (
          <p className="rounded-lg border border-dashed border-line bg-surface p-4 text-sm text-muted">
            {status === "resolved" ? "Filtered out." : "Nothing is firing."}
          </p>
        ) : (
          <div className="rounded-lg border border-line bg-surface p-2" data-testid="alerts-firing">
            <AlertGroupList
              groups={groups}
              showRun
              renderMembers={(g) => (
                <AlertHistoryTable rows={g.memberIds.map((id) => rowById.get(id)!).filter(Boolean)} simulatedRuns={[...simulated]} testId="alerts-firing-group" />
              )}
            />
          </div>
        )}
      </section>
      <section className="space-y-2">
        <h2 className="text-sm font-semibold">
          History <span className="font-normal text-muted">({history.length})</span>
        </h2>
        {history.length === 0 ? (
          <p className="rounded-lg border border-dashed border-line bg-surface p-4 text-sm text-muted">
            {status === "firing" ? "Filtered out." : "No resolved alerts yet."}
          </p>
        ) : (
          <AlertHistoryTable rows={history} simulatedRuns={[...simulated]} testId="alerts-history" />
        )}
      </section>
      <details className="rounded-lg border border-line bg-surface p-4" id="rules" data-testid="global-alert-rules" open={sp.rules !== undefined}>
        <summary className="cursor-pointer text-sm font-semibold">Alert rules (global)</summary>
        <div className="mt-3">
          <AlertRulesEditor runId={null} initial={rules} />
        </div>
      </details>
      <p className="text-xs text-muted">
        Per-run rules are on each run&apos;s page. Webhooks are set with <code>ALERT_WEBHOOK_URLS</code>; the{" "}
        <Link href="/api/openapi.json" prefetch={false} className="text-accent hover:underline">
          HTTP API
        </Link>{" "}
        serves the same data.
      </p>
    </div>
  );
}
