"use client";

import Link from "next/link";
import { useEffect, useMemo, useRef, useState } from "react";
import type { AlertDto, LiveUpdateDto } from "@/lib/dto";
import { createThrottle } from "@/lib/ui/createThrottle";
import { oomAlertPostMortemHref } from "@/lib/ui/postMortemHref";
import { prepareAlertBanner, SEVERITY_STYLE } from "@/lib/ui/prepareAlerts";
import { SimulatedBadge } from "./Badges";
import { RUN_LIVE_EVENT } from "./RunLive";

/** How often the banner re-reads the run's alerts while versions keep changing (each step bumps it). */
const REFETCH_INTERVAL_MS = 1_000;

/**
 * AlertBanner lists the run's firing alerts and stays live: it re-reads /api/runs/{id}/alerts at once when
 * the live stream's alertsFiring count changes (an alert fired or resolved), and at most once a second on
 * other version changes, so values and "since" stay fresh without a reload.
 */
export function AlertBanner({ runId, initial, simulated, serverNow }: { runId: string; initial: AlertDto[]; simulated: boolean; serverNow: number }) {
  const [alerts, setAlerts] = useState<AlertDto[]>(initial);
  // The server's clock for the first render, so "since" matches between server HTML and hydration.
  const [now, setNow] = useState(serverNow);
  const lastFiring = useRef<number | null>(null);
  const lastVersion = useRef<string | null>(null);
  const seq = useRef(0);

  const load = useMemo(() => {
    const run = async () => {
      const mine = ++seq.current;
      try {
        const res = await fetch(`/api/runs/${encodeURIComponent(runId)}/alerts`, { cache: "no-store" });
        if (!res.ok) return;
        const body = (await res.json()) as AlertDto[];
        // A slower, older answer must not overwrite a newer one.
        if (mine === seq.current) {
          setAlerts(body);
          setNow(Date.now());
        }
      } catch {
        // The next live update retries.
      }
    };
    return { now: () => void run(), throttled: createThrottle(() => void run(), REFETCH_INTERVAL_MS) };
  }, [runId]);

  useEffect(() => {
    const onLive = (ev: Event) => {
      const u = (ev as CustomEvent<LiveUpdateDto>).detail;
      if (u.runId !== runId) return;
      if (lastFiring.current !== null && lastFiring.current !== u.alertsFiring) load.now();
      else if (lastVersion.current !== null && lastVersion.current !== u.version) load.throttled();
      lastFiring.current = u.alertsFiring;
      lastVersion.current = u.version;
    };
    window.addEventListener(RUN_LIVE_EVENT, onLive);
    // The first live update may already differ from what the server rendered.
    load.now();
    const tick = setInterval(() => setNow(Date.now()), 10_000);
    return () => {
      window.removeEventListener(RUN_LIVE_EVENT, onLive);
      load.throttled.cancel();
      clearInterval(tick);
    };
  }, [runId, load]);

  const items = prepareAlertBanner(alerts, now);
  if (items.length === 0) {
    return <div data-testid="alert-banner" data-count={0} hidden />;
  }
  const critical = items.some((i) => i.severity === "critical");
  const postMortem = new Map(alerts.map((x) => [x.id, oomAlertPostMortemHref(x)]));
  return (
    <section
      role="alert"
      aria-live="polite"
      data-testid="alert-banner"
      data-count={items.length}
      className={`rounded-lg border-2 ${critical ? "border-danger/60 bg-danger-bg/60" : "border-warn/60 bg-warn-bg/60"} px-4 py-3`}
    >
      <header className="mb-1.5 flex flex-wrap items-center gap-2 text-sm">
        <span aria-hidden className={`h-2 w-2 animate-pulse rounded-full ${critical ? "bg-danger" : "bg-warn"}`} />
        <h2 className={`font-semibold ${critical ? "text-danger" : "text-warn"}`}>
          {items.length} alert{items.length === 1 ? "" : "s"} firing
        </h2>
        {simulated && <SimulatedBadge />}
        <Link href="/alerts" prefetch={false} className="ml-auto text-xs text-muted hover:text-fg">
          all alerts →
        </Link>
      </header>
      <ul className="max-h-56 space-y-1 overflow-y-auto text-sm">
        {items.map((a) => {
          const s = SEVERITY_STYLE[a.severity];
          return (
            <li
              key={a.id}
              data-testid="alert-row"
              data-rule={a.ruleId}
              data-severity={a.severity}
              className="flex flex-wrap items-baseline gap-x-2 gap-y-0.5 rounded bg-surface/70 px-2 py-1"
            >
              <span className={`rounded px-1.5 py-0.5 text-[10px] font-bold uppercase tracking-wide ${s.badge}`}>{a.severity}</span>
              <code className="text-xs font-semibold">{a.ruleId}</code>
              <span className="text-xs font-medium">{a.where}</span>
              <span className="min-w-0 flex-1 text-xs text-fg">
                {a.message} <span className="text-muted">· {a.latest}</span>
              </span>
              <span className="text-[11px] text-muted" title={a.sinceIso}>
                since {a.since}
              </span>
              <Link href={a.href} prefetch={false} scroll className="text-xs font-medium text-accent hover:underline" data-testid="alert-advice-link">
                show layer &amp; advice
              </Link>
              {postMortem.get(a.id) && (
                <Link href={postMortem.get(a.id)!} prefetch={false} className="text-xs font-medium text-accent hover:underline" data-testid="alert-postmortem-link">
                  post-mortem
                </Link>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
