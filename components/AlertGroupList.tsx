import Link from "next/link";
import type { ReactNode } from "react";
import { SEVERITY_STYLE, type AlertGroupItem } from "@/lib/ui/prepareAlerts";

/**
 * AlertGroupList: one line per (run, rule) group of firing alerts ("ep-imbalance-high on 29 of 32 layers,
 * worst layer 5 at 2.38x ..."), each expandable to its layers or ranks. Plain HTML disclosure, so it
 * renders on the server and an open group stays open across live refreshes.
 */
export function AlertGroupList({
  groups,
  showRun = false,
  postMortemHref,
  renderMembers,
}: {
  groups: AlertGroupItem[];
  showRun?: boolean;
  /** Renders a group's members instead of the compact list (the alerts page shows its episode table). */
  renderMembers?: (g: AlertGroupItem) => ReactNode;
  /** A member's post-mortem page, when it has one (OOM alerts). */
  postMortemHref?: (alertId: string) => string | null;
}) {
  return (
    <ul className="space-y-1 text-sm" data-testid="alert-groups">
      {groups.map((g) => {
        const s = SEVERITY_STYLE[g.severity];
        return (
          <li key={g.key}>
            <details open={g.count === 1 || undefined} data-testid="alert-group" data-rule={g.ruleId} data-run-id={g.runId} data-count={g.count} data-severity={g.severity} className="group rounded bg-surface/70">
              <summary className="flex cursor-pointer list-none flex-wrap items-baseline gap-x-2 gap-y-0.5 px-2 py-1 [&::-webkit-details-marker]:hidden">
                <span aria-hidden className="w-3 text-xs text-muted group-open:rotate-90">▸</span>
                <span className={`rounded px-1.5 py-0.5 text-[10px] font-bold uppercase tracking-wide ${s.badge}`}>{g.severity}</span>
                {showRun && <span className="text-xs font-medium">{g.runName}</span>}
                <span className="min-w-0 flex-1 text-xs" data-testid="alert-group-headline">
                  {g.headline}
                </span>
                <span className="text-[11px] text-muted" title={g.sinceIso}>
                  since {g.since}
                </span>
                <Link href={g.href} prefetch={false} scroll className="text-xs font-medium text-accent hover:underline" data-testid="alert-advice-link">
                  worst layer &amp; advice
                </Link>
              </summary>
              {renderMembers ? (
                <div className="border-t border-line p-1">{renderMembers(g)}</div>
              ) : (
              <ul className="max-h-56 space-y-0.5 overflow-y-auto border-t border-line px-2 py-1" data-testid="alert-group-members">
                {g.members.map((a) => (
                  <li key={a.id} data-testid="alert-row" data-rule={a.ruleId} data-severity={a.severity} className="flex flex-wrap items-baseline gap-x-2 text-xs">
                    <span className="w-16 shrink-0 font-medium">{a.where}</span>
                    <span className="min-w-0 flex-1 text-muted">{a.latest}</span>
                    <Link href={a.href} prefetch={false} scroll className="text-accent hover:underline">
                      show
                    </Link>
                    {postMortemHref?.(a.id) && (
                      <Link href={postMortemHref(a.id)!} prefetch={false} className="font-medium text-accent hover:underline" data-testid="alert-postmortem-link">
                        post-mortem
                      </Link>
                    )}
                  </li>
                ))}
              </ul>
              )}
            </details>
          </li>
        );
      })}
    </ul>
  );
}
