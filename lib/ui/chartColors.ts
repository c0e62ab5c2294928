/** CHART_COLORS: the series colour tokens of app/globals.css (--chart-1 .. --chart-10), as CSS values. */
export const CHART_COLORS: readonly string[] = Array.from({ length: 10 }, (_, i) => `var(--chart-${i + 1})`);

/** EVENT_COLORS: marker colour token per event kind. */
export const EVENT_COLORS = {
  oom: "var(--marker-oom)",
  crash: "var(--marker-crash)",
  finished: "var(--marker-finished)",
} as const;
