"use client";

import { useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState, useTransition } from "react";
import type { LiveUpdateDto, RunStatus } from "@/lib/dto";
import { createThrottle } from "@/lib/ui/createThrottle";
import { LiveDot, REFRESH_INTERVAL_MS } from "./LiveRunsRefresher";
import { useLiveStream } from "./useLiveStream";

/** RUN_LIVE_EVENT: the window event RunLive dispatches with every LiveUpdateDto of the run. */
export const RUN_LIVE_EVENT = "moe:run-live";

/**
 * RunLive subscribes to /api/runs/{id}/live and re-renders the run page's server components
 * (router.refresh, throttled to 2/s with a trailing call) whenever the run's version changes, so new steps,
 * heatmap cells and events appear without a reload. A page pinned to a step re-renders only when what it
 * shows can change (the alerts firing, the run's status): new steps do not touch its panels. The live
 * indicator names the page's snapshot step (the step every panel shows), not the stream's newest step,
 * so the header never shows two different "now"s; the stream's step is in its tooltip.
 * One refresh at a time: a change that arrives while the previous refresh is still rendering is kept and
 * refreshed once that one is done, so a page that takes longer than the throttle interval to render (a
 * long run on a busy server) is not asked for again and again while it is still being rendered.
 */
export function RunLive({
  runId,
  initialLastStep,
  initialStatus,
  initialVersion = null,
  snapshotStep = null,
  pinned = false,
  initialAlertsFiring = 0,
}: {
  runId: string;
  initialLastStep: number | null;
  initialStatus: RunStatus;
  /** The live version the page was rendered at: the stream's first update refreshes only if it differs. */
  initialVersion?: string | null;
  /** The step the page's panels show (pinned or newest complete when rendered). */
  snapshotStep?: number | null;
  /** The page is pinned to a step (?step=): only alert and status changes refresh it. */
  pinned?: boolean;
  /** Alerts firing when the page was rendered. */
  initialAlertsFiring?: number;
}) {
  const router = useRouter();
  const [rendering, startTransition] = useTransition();
  const renderingRef = useRef(false);
  const missed = useRef(false);
  const refresh = useMemo(
    () =>
      createThrottle(() => {
        if (renderingRef.current) {
          missed.current = true;
          return;
        }
        // isPending turns true on the next render (within the throttle interval) and false once the refreshed page has rendered.
        startTransition(() => router.refresh());
      }, REFRESH_INTERVAL_MS),
    [router],
  );
  useEffect(() => () => refresh.cancel(), [refresh]);
  useEffect(() => {
    renderingRef.current = rendering;
    if (!rendering && missed.current) {
      missed.current = false;
      refresh();
    }
  }, [rendering, refresh]);
  const [live, setLive] = useState<{ lastStep: number | null; status: RunStatus }>({
    lastStep: initialLastStep,
    status: initialStatus,
  });
  const version = useRef<string | null>(initialVersion);
  const seen = useRef({ alertsFiring: initialAlertsFiring, status: initialStatus });

  const state = useLiveStream<LiveUpdateDto>(`/api/runs/${encodeURIComponent(runId)}/live`, (u) => {
    // Panels that fetch their own data (the alert banner) listen for this instead of opening another stream.
    window.dispatchEvent(new CustomEvent<LiveUpdateDto>(RUN_LIVE_EVENT, { detail: u }));
    if (version.current !== u.version) {
      version.current = u.version;
      const relevant = !pinned || u.alertsFiring !== seen.current.alertsFiring || u.status !== seen.current.status;
      seen.current = { alertsFiring: u.alertsFiring, status: u.status };
      if (relevant) refresh();
    }
    setLive({ lastStep: u.lastStep, status: u.status });
  });

  const ended = live.status === "finished" || live.status === "crashed" || live.status === "oom";
  const label =
    state !== "open"
      ? state === "connecting"
        ? "connecting…"
        : "reconnecting…"
      : ended
        ? `ended · step ${snapshotStep ?? live.lastStep ?? "–"}`
        : pinned
          ? `live · run at step ${live.lastStep ?? "–"}`
          : `live · step ${snapshotStep ?? "–"}`;
  return (
    <span
      data-testid="run-live"
      data-last-step={live.lastStep ?? ""}
      data-snapshot-step={snapshotStep ?? ""}
      title={`The page shows step ${snapshotStep ?? "–"}; ranks have reported up to step ${live.lastStep ?? "–"}.`}
    >
      <LiveDot state={state} label={label} />
    </span>
  );
}
