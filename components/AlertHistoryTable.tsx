"use client";

import Link from "next/link";
import { Fragment, useEffect, useState } from "react";
import type { AlertDeliveryDto } from "@/lib/dto";
import { SEVERITY_STYLE, type AlertHistoryRow } from "@/lib/ui/prepareAlerts";
import { SimulatedBadge } from "./Badges";

/** AlertHistoryTable: alert episodes (started, peak value and step, resolved, duration); each row expands to its webhook delivery log. */
export function AlertHistoryTable({ rows, simulatedRuns, testId }: { rows: AlertHistoryRow[]; simulatedRuns: string[]; testId: string }) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (id: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  return (
    <div className="overflow-x-auto rounded-lg border border-line bg-surface">
      <table className="w-full text-xs" data-testid={testId}>
        <thead className="border-b border-line bg-surface-2 text-left text-muted">
          <tr>
            <th className="w-6 px-2 py-2" />
            <th className="px-2 py-2 font-medium">Severity</th>
            <th className="px-2 py-2 font-medium">Rule · where</th>
            <th className="px-2 py-2 font-medium">Run</th>
            <th className="px-2 py-2 font-medium">Started (UTC)</th>
            <th className="px-2 py-2 font-medium">Peak</th>
            <th className="px-2 py-2 font-medium">Resolved (UTC)</th>
            <th className="px-2 py-2 text-right font-medium">Duration</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const isOpen = open.has(r.id);
            return (
              <Fragment key={r.id}>
                <tr data-testid="alert-row" data-alert-id={r.id} data-rule={r.ruleId} data-status={r.status} className="border-b border-line align-top hover:bg-surface-2">
                  <td className="px-2 py-1.5">
                    <button
                      type="button"
                      aria-expanded={isOpen}
                      aria-label={isOpen ? "Hide deliveries" : "Show deliveries"}
                      onClick={() => toggle(r.id)}
                      data-testid="alert-expand"
                      className="rounded px-1 text-muted hover:bg-surface hover:text-fg"
                    >
                      {isOpen ? "▾" : "▸"}
                    </button>
                  </td>
                  <td className="px-2 py-1.5">
                    <span className={`rounded px-1.5 py-0.5 text-[10px] font-bold uppercase ${SEVERITY_STYLE[r.severity].badge}`}>{r.severity}</span>
                  </td>
                  <td className="px-2 py-1.5">
                    <code className="font-semibold">{r.ruleId}</code> · {r.where}
                    <div className="max-w-xl text-[11px] text-muted">{r.message}</div>
                  </td>
                  <td className="px-2 py-1.5">
                    <Link href={r.href} prefetch={false} className="text-accent hover:underline">
                      {r.runName}
                    </Link>
                    {simulatedRuns.includes(r.runId) && (
                      <span className="ml-1 align-middle">
                        <SimulatedBadge />
                      </span>
                    )}
                  </td>
                  <td className="px-2 py-1.5 font-mono whitespace-nowrap" title={r.startedIso}>
                    {r.started}
                  </td>
                  <td className="px-2 py-1.5 font-mono whitespace-nowrap">{r.peak}</td>
                  <td className={`px-2 py-1.5 font-mono whitespace-nowrap ${r.status === "firing" ? SEVERITY_STYLE[r.severity].text : ""}`}>{r.resolved}</td>
                  <td className="px-2 py-1.5 text-right font-mono whitespace-nowrap">{r.duration}</td>
                </tr>
                {isOpen && (
                  <tr className="border-b border-line bg-surface-2/50">
                    <td />
                    <td colSpan={7} className="px-2 py-2">
                      <DeliveryLog alertId={r.id} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function DeliveryLog({ alertId }: { alertId: string }) {
  const [state, setState] = useState<{ kind: "loading" } | { kind: "error"; error: string } | { kind: "ok"; rows: AlertDeliveryDto[] }>({ kind: "loading" });
  useEffect(() => {
    const ctrl = new AbortController();
    fetch(`/api/alerts/${encodeURIComponent(alertId)}/deliveries`, { signal: ctrl.signal, cache: "no-store" })
      .then(async (r) => {
        const body = (await r.json()) as AlertDeliveryDto[] | { error: string };
        if (!r.ok || !Array.isArray(body)) throw new Error(Array.isArray(body) ? `HTTP ${r.status}` : body.error);
        setState({ kind: "ok", rows: body });
      })
      .catch((err: unknown) => {
        if (!ctrl.signal.aborted) setState({ kind: "error", error: err instanceof Error ? err.message : String(err) });
      });
    return () => ctrl.abort();
  }, [alertId]);
  return (
    <div data-testid="alert-deliveries" data-state={state.kind}>
      <h3 className="mb-1 text-[11px] font-semibold text-muted">Webhook deliveries</h3>
      {state.kind === "loading" && <p className="text-muted">loading…</p>}
      {state.kind === "error" && <p className="text-danger">{state.error}</p>}
      {state.kind === "ok" && state.rows.length === 0 && (
        <p className="text-muted" data-testid="alert-deliveries-empty">
          No deliveries: no webhook is configured (ALERT_WEBHOOK_URLS), or none was due.
        </p>
      )}
      {state.kind === "ok" && state.rows.length > 0 && (
        <table className="w-full font-mono text-[11px]">
          <thead className="text-left text-muted">
            <tr>
              <th className="pr-3 font-medium">at (UTC)</th>
              <th className="pr-3 font-medium">event</th>
              <th className="pr-3 font-medium">url</th>
              <th className="pr-3 font-medium">attempt</th>
              <th className="font-medium">result</th>
            </tr>
          </thead>
          <tbody>
            {state.rows.map((d, i) => (
              <tr key={i} data-testid="delivery-row" data-ok={d.ok}>
                <td className="pr-3">{d.at.replace("T", " ").slice(0, 23)}</td>
                <td className="pr-3">{d.event}</td>
                <td className="max-w-xs truncate pr-3" title={d.url}>
                  {d.url}
                </td>
                <td className="pr-3">{d.attempt}</td>
                <td className={d.ok ? "text-ok" : "text-danger"}>
                  {d.ok ? "ok" : "failed"} {d.statusCode ?? ""} {d.error ?? ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
