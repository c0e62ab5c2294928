"use client";

import { useRouter } from "next/navigation";
import { useEffect, useMemo } from "react";
import { createThrottle } from "@/lib/ui/createThrottle";
import { useLiveStream } from "./useLiveStream";

/** REFRESH_INTERVAL_MS: at most two server re-renders per second from live updates. */
export const REFRESH_INTERVAL_MS = 500;

/** LiveRunsRefresher re-renders the runs list (router.refresh) whenever /api/live reports a change. */
export function LiveRunsRefresher() {
  const router = useRouter();
  const refresh = useMemo(() => createThrottle(() => router.refresh(), REFRESH_INTERVAL_MS), [router]);
  useEffect(() => () => refresh.cancel(), [refresh]);
  const state = useLiveStream<{ version: string }>("/api/live", () => refresh());
  return <LiveDot state={state} label={state === "open" ? "live" : state === "connecting" ? "connecting" : "reconnecting"} />;
}

/** LiveDot: a small connection indicator. */
export function LiveDot({ state, label }: { state: "connecting" | "open" | "retrying"; label: string }) {
  const color = state === "open" ? "bg-ok" : state === "connecting" ? "bg-muted" : "bg-warn";
  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-muted" data-testid="live-indicator" data-state={state}>
      <span aria-hidden className={`h-2 w-2 rounded-full ${color} ${state === "open" ? "animate-pulse" : ""}`} />
      {label}
    </span>
  );
}
