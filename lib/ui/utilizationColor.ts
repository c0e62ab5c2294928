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

/** DARK_HEAT_PALETTE: the dark theme's --heat-* tokens (app/globals.css, `.dark`), for images drawn on the server. */
export const DARK_HEAT_PALETTE: HeatPalette = {
  cold: "#4393c3",
  neutral: "#2b323c",
  hot: "#f4a582",
  dead: "#000000",
  empty: "#1c232d",
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
 * A cell's shade on the heat scale, independent of the theme: a number in [-1, 1] (-1 fully cold, 0 neutral,
 * 1 fully hot), DEAD_SHADE for a dead expert, or NaN for a missing value (drawn empty). Colours are the shade
 * in a palette (shadeColor); the server-rendered heatmap images quantize it to one of HEAT_LEVELS (shadeLevel).
 */
export const DEAD_SHADE = -2;

/** utilizationShade: 1.0 is neutral, u > 1 towards hot (saturated at HOT_SATURATION), 0.1 <= u < 1 towards cold (fully cold at 0.1), u < 0.1 dead, null/NaN empty. */
export function utilizationShade(u: number | null): number {
  if (u == null || !Number.isFinite(u)) return Number.NaN;
  if (isDeadUtilization(u)) return DEAD_SHADE;
  if (u >= 1) return Math.min(1, (u - 1) / (HOT_SATURATION - 1));
  return -Math.min(1, (1 - u) / (1 - DEAD_UTILIZATION));
}

/** shadeColor is a shade's exact colour in a palette (linear in sRGB between neutral and cold or hot). */
export function shadeColor(shade: number, palette: HeatPalette = LIGHT_HEAT_PALETTE): string {
  if (Number.isNaN(shade)) return palette.empty;
  if (shade <= DEAD_SHADE) return palette.dead;
  return shade >= 0 ? mixHex(palette.neutral, palette.hot, shade) : mixHex(palette.neutral, palette.cold, -shade);
}

/** utilizationColor maps utilization u = load / mean to a colour (see utilizationShade for the scale). */
export function utilizationColor(u: number | null, palette: HeatPalette = LIGHT_HEAT_PALETTE): string {
  return shadeColor(utilizationShade(u), palette);
}

/** HEAT_LEVELS: level 0 is empty, 1 dead, 2..255 the ramp from fully cold to fully hot (254 levels). */
export const HEAT_LEVELS = 256;
const RAMP_FIRST = 2;
const RAMP_STEPS = HEAT_LEVELS - RAMP_FIRST - 1;

/** shadeLevel quantizes a shade to one of HEAT_LEVELS levels (adjacent ramp levels differ by under 1% of the ramp). */
export function shadeLevel(shade: number): number {
  if (Number.isNaN(shade)) return 0;
  if (shade <= DEAD_SHADE) return 1;
  const s = Math.max(-1, Math.min(1, shade));
  return RAMP_FIRST + Math.round(((s + 1) / 2) * RAMP_STEPS);
}

/** levelShade is the shade a level stands for (the inverse of shadeLevel up to its rounding). */
export function levelShade(level: number): number {
  if (level <= 0) return Number.NaN;
  if (level === 1) return DEAD_SHADE;
  return ((level - RAMP_FIRST) / RAMP_STEPS) * 2 - 1;
}

/** heatRampRgb: the colour of each of the HEAT_LEVELS levels in a palette, as r, g, b bytes (a PNG PLTE). */
export function heatRampRgb(palette: HeatPalette): Uint8Array {
  const out = new Uint8Array(HEAT_LEVELS * 3);
  for (let level = 0; level < HEAT_LEVELS; level++) out.set(parseHex(shadeColor(levelShade(level), palette)), level * 3);
  return out;
}

/** heatLegendStops returns the legend's gradient stops (utilization and colour) from dead to saturated hot. */
export function heatLegendStops(palette: HeatPalette = LIGHT_HEAT_PALETTE): Array<{ u: number; color: string }> {
  return [DEAD_UTILIZATION, 0.5, 1, 2, HOT_SATURATION].map((u) => ({ u, color: utilizationColor(u, palette) }));
}
