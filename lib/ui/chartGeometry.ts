/**
 * Geometry for the run page's plain-SVG charts (the loss charts, the imbalance summary): linear scales, axis
 * ticks at round numbers, and the path strings of lines and min-max bands. Pure, so the server renders the
 * same SVG the browser hydrates, and the lines are in the HTML before any script has run.
 */

/** Scale maps a data value to a coordinate. */
export type Scale = (v: number) => number;

/** linearScale maps [d0, d1] onto [r0, r1] (a zero-width domain maps to the middle of the range). */
export function linearScale(d0: number, d1: number, r0: number, r1: number): Scale {
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** tickStep is a round step (1, 2 or 5 times a power of ten) that cuts [lo, hi] into about `count` parts. */
export function tickStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 0;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f >= 7.07 ? 10 : f >= 3.16 ? 5 : f >= 1.41 ? 2 : 1) * power;
}

/** niceTicks returns the round values inside [lo, hi], about `count` of them (one value when lo == hi). */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  let step = tickStep(lo, hi, count);
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const out: number[] = [];
  // Multiplying (not accumulating) keeps 0.1 * 3 from drifting into 0.30000000000000004 style labels.
  for (let i = first; i <= last; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

// Whole user units: the plot is 1,000 units wide (under 1 px each on screen) and as tall as its pixels, so
// decimals would only lengthen the HTML (64 layers x 100 points x 2 charts).
const r1 = (v: number) => Math.round(v);

/**
 * polylinePath is the SVG path of a line through (xs[i], ys[i]); points without a value are skipped and
 * the line joins its neighbours (a missing bucket is not a drop to zero). "" when no point is finite.
 */
export function polylinePath(xs: readonly number[], ys: readonly (number | null | undefined)[], x: Scale, y: Scale): string {
  let d = "";
  for (let i = 0; i < xs.length; i++) {
    const v = ys[i];
    if (v == null || !Number.isFinite(v)) continue;
    const px = x(xs[i]);
    const py = y(v);
    if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
    d += `${d ? "L" : "M"}${r1(px)},${r1(py)}`;
  }
  return d;
}

/**
 * bandPath is the SVG path of the area between lo[i] and hi[i]: one closed shape per run of consecutive
 * points that have both bounds (a gap ends the shape, so the band never spans missing buckets).
 */
export function bandPath(
  xs: readonly number[],
  lo: readonly (number | null | undefined)[],
  hi: readonly (number | null | undefined)[],
  x: Scale,
  y: Scale,
): string {
  let d = "";
  let run: number[] = [];
  const flush = () => {
    if (run.length > 0) {
      const top = run.map((i, k) => `${k ? "L" : "M"}${r1(x(xs[i]))},${r1(y(hi[i]!))}`).join("");
      const bottom = run
        .slice()
        .reverse()
        .map((i) => `L${r1(x(xs[i]))},${r1(y(lo[i]!))}`)
        .join("");
      d += `${top}${bottom}Z`;
    }
    run = [];
  };
  for (let i = 0; i < xs.length; i++) {
    const a = lo[i];
    const b = hi[i];
    if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b)) flush();
    else run.push(i);
  }
  flush();
  return d;
}

/** nearestIndex is the index of the value in ascending `xs` closest to `v` (-1 when xs is empty). */
export function nearestIndex(xs: readonly number[], v: number): number {
  if (xs.length === 0) return -1;
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= v) lo = mid;
    else hi = mid;
  }
  return Math.abs(xs[hi] - v) < Math.abs(v - xs[lo]) ? hi : lo;
}
