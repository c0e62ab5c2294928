/** HeatPalette: the five colours of the utilization scale, as #rrggbb (theme tokens --heat-*). */
export interface HeatPalette {
  cold: string;
  neutral: string;
  hot: string;
  dead: string;
  empty: string;
}

/** LIGHT_HEAT_PALETTE: the light theme's --heat-* tokens (app/globals.css); used when no theme is readable. */
export const LIGHT_HEAT_PALETTE: HeatPalette = {
  cold: "#2166ac",
  neutral: "#f2f2f2",
  hot: "#b2182b",
  dead: "#111111",
  empty: "#e5e7eb",
};

/** DEAD_UTILIZATION: an expert with utilization strictly below this is dead (DESIGN.md metric definitions). */
export const DEAD_UTILIZATION = 0.1;

/** HOT_SATURATION: utilization at which the hot colour saturates; everything above is drawn fully hot. */
export const HOT_SATURATION = 3;

/** isDeadUtilization says whether an expert counts as dead (u < 0.1, strict). */
export function isDeadUtilization(u: number): boolean {
  return u < DEAD_UTILIZATION;
}

/** Parsed palette colours: a heatmap colours ~35k cells per draw from the same handful of colours. */
const parsedHex = new Map<string, readonly [number, number, number]>();

/** parseHex turns "#rgb" or "#rrggbb" into [r, g, b]; anything else is an error (palettes are ours). */
export function parseHex(hex: string): [number, number, number] {
  const c = parsedShared(hex);
  return [c[0], c[1], c[2]];
}

/** parsedShared is parseHex's cached tuple itself (not to be modified): mixHex runs per heatmap cell. */
function parsedShared(hex: string): readonly [number, number, number] {
  let c = parsedHex.get(hex);
  if (!c) {
    c = parseHexUncached(hex);
    if (parsedHex.size < 256) parsedHex.set(hex, c);
  }
  return c;
}

function parseHexUncached(hex: string): [number, number, number] {
  const h = hex.trim().replace(/^#/, "");
  if (/^[0-9a-fA-F]{3}$/.test(h)) {
    return [0, 1, 2].map((i) => parseInt(h[i] + h[i], 16)) as [number, number, number];
  }
  if (/^[0-9a-fA-F]{6}$/.test(h)) {
    return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
  }
  throw new Error(`parseHex: not a hex colour: ${JSON.stringify(hex)}`);
}

/** Two hex digits of every channel value. */
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * mixHex interpolates two hex colours linearly in sRGB; t = 0 gives `a`, t = 1 gives `b`. Called once per
 * heatmap cell (15k per heatmap on a 64-layer run), so it allocates nothing and formats through a table.
 */
export function mixHex(a: string, b: string, t: number): string {
  const ca = parsedShared(a);
  const cb = parsedShared(b);
  const k = Math.min(1, Math.max(0, t));
  return `#${HEX2[Math.round(ca[0] + (cb[0] - ca[0]) * k)]}${HEX2[Math.round(ca[1] + (cb[1] - ca[1]) * k)]}${HEX2[Math.round(ca[2] + (cb[2] - ca[2]) * k)]}`;
}

/**
 * utilizationColor maps utilization u = load / mean to a colour: 1.0 is neutral, u > 1 moves linearly to hot
 * (saturated at HOT_SATURATION), 0.1 <= u < 1 moves linearly to cold (fully cold at 0.1), u < 0.1 is dead,
 * and a missing value (null/NaN, e.g. no tokens reported) is empty.
 */
export function utilizationColor(u: number | null, palette: HeatPalette = LIGHT_HEAT_PALETTE): string {
  if (u == null || !Number.isFinite(u)) return palette.empty;
  if (isDeadUtilization(u)) return palette.dead;
  if (u >= 1) return mixHex(palette.neutral, palette.hot, (u - 1) / (HOT_SATURATION - 1));
  return mixHex(palette.neutral, palette.cold, (1 - u) / (1 - DEAD_UTILIZATION));
}

/** heatLegendStops returns the legend's gradient stops (utilization and colour) from dead to saturated hot. */
export function heatLegendStops(palette: HeatPalette = LIGHT_HEAT_PALETTE): Array<{ u: number; color: string }> {
  return [DEAD_UTILIZATION, 0.5, 1, 2, HOT_SATURATION].map((u) => ({ u, color: utilizationColor(u, palette) }));
}
