/** postMortemHref links to the post-mortem page of an OOM event. */
export function postMortemHref(runId: string, eventId: string): string {
  return `/runs/${encodeURIComponent(runId)}/oom/${encodeURIComponent(eventId)}`;
}

/** oomAlertPostMortemHref links an "oom" alert to the post-mortem of the OOM it reports (found by rank and step); null for other alerts. */
export function oomAlertPostMortemHref(a: { ruleId: string; runId: string; rank: number | null; step: number }): string | null {
  if (a.ruleId !== "oom" || a.rank === null) return null;
  return `/runs/${encodeURIComponent(a.runId)}/oom?rank=${a.rank}&step=${a.step}`;
}
