import Link from "next/link";
import type { AlertDto } from "@/lib/dto";
import { oomAlertPostMortemHref } from "@/lib/ui/postMortemHref";
import type { AlertGroupItem } from "@/lib/ui/prepareAlerts";
import { AlertGroupList } from "./AlertGroupList";
import { SimulatedBadge } from "./Badges";

/**
 * AlertBanner: the run's firing alerts, one line per rule (grouped over layers and ranks, expandable). It
 * renders from the page's snapshot, the same alert list and step the advice and the header use, so the
 * page never says "32 firing" in one place and 64 in another; the page's live refresh brings new alerts.
 */
export function AlertBanner({ groups, alerts, simulated, step }: { groups: AlertGroupItem[]; alerts: AlertDto[]; simulated: boolean; step: number | null }) {
  if (groups.length === 0) {
    return <div data-testid="alert-banner" data-count={0} hidden />;
  }
  const critical = groups.some((g) => g.severity === "critical");
  const byId = new Map(alerts.map((a) => [a.id, a]));
  const total = groups.reduce((n, g) => n + g.count, 0);
  return (
    <section
      role="alert"
      aria-live="polite"
      data-testid="alert-banner"
      data-count={groups.length}
      data-alerts={total}
      className={`rounded-lg border-2 ${critical ? "border-danger/60 bg-danger-bg/60" : "border-warn/60 bg-warn-bg/60"} px-4 py-3`}
    >
      <header className="mb-1.5 flex flex-wrap items-center gap-2 text-sm">
        <span aria-hidden className={`h-2 w-2 animate-pulse rounded-full ${critical ? "bg-danger" : "bg-warn"}`} />
        <h2 className={`font-semibold ${critical ? "text-danger" : "text-warn"}`}>
          {groups.length} rule{groups.length === 1 ? "" : "s"} firing
          <span className="font-normal"> ({total} layer{total === 1 ? "" : "s"} or rank{total === 1 ? "" : "s"})</span>
        </h2>
        {step !== null && <span className="text-xs text-muted">as of step {step}</span>}
        {simulated && <SimulatedBadge />}
        <Link href="/alerts" prefetch={false} className="ml-auto text-xs text-muted hover:text-fg">
          all alerts →
        </Link>
      </header>
      <AlertGroupList groups={groups} postMortemHref={(id) => (byId.has(id) ? oomAlertPostMortemHref(byId.get(id)!) : null)} />
    </section>
  );
}
