/**
 * The heatmap's cells as images for the server-rendered HTML, so a heatmap is on screen before the page's
 * scripts have loaded and hydrated (on a 64-layer page that hydration took ~0.5 s of a 2-core machine, and the
 * canvases drew only after it). One pixel per cell, scaled up by CSS; the canvas replaces the image once it
 * has drawn. Both themes' images are sent, and CSS shows the one of the document's theme, so the first paint
 * matches the theme the layout script chose.
 */
import { encodeIndexedPng, type PngZlib } from "./indexedPng";
import { DARK_HEAT_PALETTE, heatRampRgb, LIGHT_HEAT_PALETTE, shadeLevel } from "./utilizationColor";

/** HeatmapPreview: `data:` URIs of the cells in the light and the dark palette. */
export interface HeatmapPreview {
  light: string;
  dark: string;
}

let ramps: { light: Uint8Array; dark: Uint8Array } | null = null;

/**
 * heatmapPreview renders rows x cols cells, each the level of `shadeAt(row, col)` (utilizationShade /
 * imbalanceShade), as two palette-indexed PNGs. `zlib` makes the PNGs' zlib stream and CRCs, `base64`
 * encodes bytes.
 */
export function heatmapPreview(
  rows: number,
  cols: number,
  shadeAt: (row: number, col: number) => number,
  zlib: PngZlib,
  base64: (bytes: Uint8Array) => string,
): HeatmapPreview {
  ramps ??= { light: heatRampRgb(LIGHT_HEAT_PALETTE), dark: heatRampRgb(DARK_HEAT_PALETTE) };
  const pixels = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) pixels[r * cols + c] = shadeLevel(shadeAt(r, c));
  const image = { width: cols, height: rows, pixels };
  const uri = (rgb: Uint8Array) => `data:image/png;base64,${base64(encodeIndexedPng(image, rgb, zlib))}`;
  return { light: uri(ramps.light), dark: uri(ramps.dark) };
}

/**
 * serverHeatmapPreview is heatmapPreview with node:zlib and Buffer while rendering on the server, and null in
 * the browser (there the canvas draws). The modules come from process.getBuiltinModule so that the client
 * bundle, which also holds this code, imports nothing of Node's.
 */
export function serverHeatmapPreview(rows: number, cols: number, shadeAt: (row: number, col: number) => number): HeatmapPreview | null {
  if (typeof window !== "undefined" || rows <= 0 || cols <= 0) return null;
  const zlib = process.getBuiltinModule?.("node:zlib");
  const buffer = process.getBuiltinModule?.("node:buffer");
  if (!zlib || !buffer) return null;
  return heatmapPreview(
    rows,
    cols,
    shadeAt,
    { deflate: (raw) => zlib.deflateSync(raw, { level: 9 }), crc32: (bytes) => zlib.crc32(bytes) },
    (bytes) => buffer.Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
  );
}
