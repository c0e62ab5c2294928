/** formatCount renders a token count compactly (12345 -> "12.3k") while keeping small counts exact. */
export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "–";
  const abs = Math.abs(n);
  if (abs < 1000) return String(Math.round(n * 100) / 100);
  const units: Array<[number, string]> = [
    [1e12, "T"],
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ];
  for (const [size, suffix] of units) {
    if (abs >= size) {
      const v = n / size;
      return `${Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)}${suffix}`;
    }
  }
  return String(n);
}

/** formatRatio renders a dimensionless value (utilization, loss) with 3 significant digits. */
export function formatRatio(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return "–";
  if (v === 0) return "0";
  const abs = Math.abs(v);
  if (abs >= 1000) return v.toFixed(0);
  if (abs >= 0.001) return Number(v.toPrecision(3)).toString();
  return v.toExponential(2);
}

/** formatPercent renders a share in [0, 1] as a percentage with one decimal. */
export function formatPercent(share: number | null | undefined): string {
  if (share == null || !Number.isFinite(share)) return "–";
  return `${(share * 100).toFixed(1)}%`;
}
