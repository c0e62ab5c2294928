/**
 * The status a run shows: what the ranks said (finished, crashed, oom), or running / stale from
 * how long ago the last data came.
 */

/** STALE_AFTER_MS: a running run that sent nothing for this long is shown as stale. */
export const STALE_AFTER_MS = 60_000;

/** REPORTING_WINDOW_MS: a rank counts as reporting if it sent data this recently. */
export const REPORTING_WINDOW_MS = 30_000;

/** deriveRunStatus maps the stored status and the last data time to the status shown at `nowMs`. */
export function deriveRunStatus(
  stored: string,
  lastSeenMs: number | null,
  nowMs: number,
): "running" | "stale" | "finished" | "crashed" | "oom" {
  if (stored === "finished" || stored === "crashed" || stored === "oom") return stored;
  if (lastSeenMs !== null && nowMs - lastSeenMs > STALE_AFTER_MS) return "stale";
  return "running";
}
