"use client";

import { useSearchParamsUpdater } from "./useSearchParamsUpdater";

/** AlertsFilter: run and status filters of the alerts page, kept in the URL (?run=, ?status=). */
export function AlertsFilter({ runs, runId, status }: { runs: Array<{ id: string; name: string; runKey: string }>; runId: string | null; status: "firing" | "resolved" | null }) {
  const [update, pending] = useSearchParamsUpdater();
  const select = "rounded border border-line bg-bg px-2 py-1 text-xs";
  return (
    <div className="flex flex-wrap items-center gap-4 rounded-lg border border-line bg-surface px-4 py-2 text-xs" data-testid="alerts-filter" aria-busy={pending}>
      <label className="flex items-center gap-2">
        <span className="text-muted">Run</span>
        <select className={select} value={runId ?? ""} onChange={(e) => update({ run: e.target.value || null })} data-testid="alerts-filter-run">
          <option value="">all runs</option>
          {runs.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name} ({r.runKey})
            </option>
          ))}
        </select>
      </label>
      <label className="flex items-center gap-2">
        <span className="text-muted">Status</span>
        <select className={select} value={status ?? ""} onChange={(e) => update({ status: e.target.value || null })} data-testid="alerts-filter-status">
          <option value="">all</option>
          <option value="firing">firing</option>
          <option value="resolved">resolved</option>
        </select>
      </label>
    </div>
  );
}
