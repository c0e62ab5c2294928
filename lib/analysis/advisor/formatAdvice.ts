/**
 * Number formatting for advice text, so every rationale prints sizes, ratios and fractions the same way.
 */

/** formatAdvice: GiB with one decimal, ratios as "3.10x", fractions as percentages, counts with thousands separators. */
export const formatAdvice = {
  gib: (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`,
  times: (ratio: number | null): string => (ratio === null ? "n/a" : `${ratio.toFixed(2)}x`),
  percent: (fraction: number): string => `${(fraction * 100).toFixed(fraction > 0 && fraction < 0.001 ? 3 : 1)}%`,
  count: (n: number): string => Math.round(n).toLocaleString("en-US"),
};
