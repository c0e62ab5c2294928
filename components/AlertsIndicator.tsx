"use client";

import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import type { AlertDto } from "@/lib/dto";
import { createThrottle } from "@/lib/ui/createThrottle";
import { summarizeFiring, type FiringSummary } from "@/lib/ui/summarizeFiring";
import { useLiveStream } from "./useLiveStream";

/**
 * AlertsIndicator: the header's count of firing alert groups across runs, linking to /alerts. The first
 * paint shows the server's state (the layout reads it), so it never says "no alerts firing" while /alerts
 * lists some; it re-reads /api/alerts?status=firing when /api/live reports a change (at most once a second).
 */
export function AlertsIndicator({ initial }: { initial: FiringSummary | null }) {
  const [firing, setFiring] = useState<FiringSummary | null>(initial);
  const load = useMemo(
    () =>
      createThrottle(() => {
        fetch("/api/alerts?status=firing&limit=1000", { cache: "no-store" })
          .then((r) => (r.ok ? (r.json() as Promise<AlertDto[]>) : null))
          .then((list) => {
            if (list) setFiring(summarizeFiring(list));
          })
          .catch(() => undefined);
      }, 1_000),
    [],
  );
  useEffect(() => () => load.cancel(), [load]);
  useLiveStream<{ version: string }>("/api/live", () => load());

  const count = firing?.count ?? 0;
  const tone = count === 0 ? "text-muted" : firing?.critical ? "bg-danger-bg text-danger" : "bg-warn-bg text-warn";
  return (
    <Link
      href="/alerts"
      prefetch={false}
      data-testid="alerts-indicator"
      data-count={firing ? count : ""}
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium hover:underline ${tone}`}
      data-alerts={firing ? firing.alerts : ""}
      title={firing ? `${count} rule${count === 1 ? "" : "s"} firing across runs (${firing.alerts} layer or rank alert${firing.alerts === 1 ? "" : "s"})` : "alerts"}
    >
      <span aria-hidden>{count > 0 ? "▲" : "△"}</span>
      {count > 0 ? `${count} firing` : "no alerts firing"}
    </Link>
  );
}
