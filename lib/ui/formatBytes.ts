const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/** formatBytes renders a byte count in binary units (GPU memory is reported by torch in bytes): 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number | null | undefined, fractionDigits = 1): string {
  if (bytes == null || !Number.isFinite(bytes)) return "–";
  const sign = bytes < 0 ? "-" : "";
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${sign}${value} B`;
  return `${sign}${value.toFixed(fractionDigits)} ${UNITS[unit]}`;
}
