import { readFileSync } from "node:fs";
import { crc32, deflateSync, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { heatmapPreview } from "./heatmapPreview";
import { encodeIndexedPng, type PngZlib } from "./indexedPng";
import {
  DARK_HEAT_PALETTE,
  DEAD_SHADE,
  heatRampRgb,
  HEAT_LEVELS,
  levelShade,
  LIGHT_HEAT_PALETTE,
  parseHex,
  shadeColor,
  shadeLevel,
  utilizationColor,
  utilizationShade,
  type HeatPalette,
} from "./utilizationColor";

/** A PNG split into its chunks, each CRC checked; pixels read back through node:zlib's inflate. */
function decodePng(png: Uint8Array) {
  expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Array<{ type: string; data: Uint8Array }> = [];
  for (let at = 8; at < png.length; ) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    expect(view.getUint32(at + 8 + len), `CRC of ${type}`).toBe(crc32(png.subarray(at + 4, at + 8 + len)));
    chunks.push({ type, data });
    at += 12 + len;
  }
  expect(chunks.map((c) => c.type)).toEqual(["IHDR", "PLTE", "IDAT", "IEND"]);
  const ihdr = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset, 13);
  const width = ihdr.getUint32(0);
  const height = ihdr.getUint32(4);
  expect([chunks[0].data[8], chunks[0].data[9], chunks[0].data[12]]).toEqual([8, 3, 0]);
  const raw = inflateSync(chunks[2].data);
  expect(raw.length).toBe(height * (width + 1));
  const pixels: number[][] = [];
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width + 1)], "filter type").toBe(0);
    pixels.push(Array.from(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1))));
  }
  return { width, height, palette: chunks[1].data, idat: chunks[2].data, pixels };
}

/** node:zlib's, as serverHeatmapPreview passes them. */
const ZLIB: PngZlib = { deflate: (raw) => deflateSync(raw), crc32: (bytes) => crc32(bytes) };

function dataUriBytes(uri: string): Uint8Array {
  expect(uri.startsWith("data:image/png;base64,")).toBe(true);
  return new Uint8Array(Buffer.from(uri.slice("data:image/png;base64,".length), "base64"));
}

describe("encodeIndexedPng", () => {
  const palette = Uint8Array.from([0, 0, 0, 255, 0, 0, 0, 255, 0]);

  it("round-trips pixels, size and palette", () => {
    const pixels = Uint8Array.from([0, 1, 2, 2, 1, 0]);
    const png = decodePng(encodeIndexedPng({ width: 3, height: 2, pixels }, palette, ZLIB));
    expect(png).toMatchObject({ width: 3, height: 2, pixels: [[0, 1, 2], [2, 1, 0]] });
    expect(Array.from(png.palette)).toEqual(Array.from(palette));
  });

  it.each([
    { name: "pixel count not width x height", image: { width: 2, height: 2, pixels: new Uint8Array(3) }, pal: palette, msg: /3 pixels for a 2 x 2 image/ },
    { name: "empty image", image: { width: 0, height: 2, pixels: new Uint8Array(0) }, pal: palette, msg: /0 x 2/ },
    { name: "index beyond the palette", image: { width: 2, height: 1, pixels: Uint8Array.from([0, 3]) }, pal: palette, msg: /pixel 1 is index 3, the palette has 3 entries/ },
    { name: "palette not 3 bytes per entry", image: { width: 1, height: 1, pixels: new Uint8Array(1) }, pal: new Uint8Array(4), msg: /palette of 4 bytes/ },
  ])("rejects $name", ({ image, pal, msg }) => {
    expect(() => encodeIndexedPng(image, pal, ZLIB)).toThrow(msg);
  });
});

describe("heat levels", () => {
  it.each([
    { name: "empty", shade: Number.NaN, level: 0 },
    { name: "dead", shade: DEAD_SHADE, level: 1 },
    { name: "fully cold", shade: -1, level: 2 },
    { name: "fully hot", shade: 1, level: 255 },
    { name: "beyond hot is clamped", shade: 7, level: 255 },
  ])("$name -> level $level", ({ shade, level }) => {
    expect(shadeLevel(shade)).toBe(level);
  });

  it("every level's shade maps back to that level", () => {
    for (let level = 0; level < HEAT_LEVELS; level++) expect(shadeLevel(levelShade(level))).toBe(level);
  });

  it.each([
    { name: "light", palette: LIGHT_HEAT_PALETTE },
    { name: "dark", palette: DARK_HEAT_PALETTE },
  ])("the $name ramp is within one unit per channel of the exact colour of any utilization", ({ palette }) => {
    const ramp = heatRampRgb(palette);
    for (let i = 0; i <= 4000; i++) {
      const u = i / 1000;
      const level = shadeLevel(utilizationShade(u));
      const exact = parseHex(utilizationColor(u, palette));
      for (let ch = 0; ch < 3; ch++) expect(Math.abs(ramp[level * 3 + ch] - exact[ch]), `u=${u} channel ${ch}`).toBeLessThanOrEqual(1);
    }
    expect(Array.from(ramp.subarray(0, 6))).toEqual([...parseHex(palette.empty), ...parseHex(palette.dead)]);
  });
});

/** The --heat-* tokens of one block of app/globals.css (`:root` or `.dark`). */
function cssPalette(selector: string): HeatPalette {
  const css = readFileSync(new URL("../../app/globals.css", import.meta.url), "utf8");
  const start = css.indexOf(`\n${selector} {`);
  expect(start, `${selector} block in globals.css`).toBeGreaterThanOrEqual(0);
  const block = css.slice(start, css.indexOf("\n}", start));
  const token = (name: string) => /#[0-9a-fA-F]{3,6}/.exec(new RegExp(`--heat-${name}:\\s*([^;]+);`).exec(block)?.[1] ?? "")?.[0];
  return { cold: token("cold")!, neutral: token("neutral")!, hot: token("hot")!, dead: token("dead")!, empty: token("empty")! };
}

describe("heatmap palettes", () => {
  it("LIGHT_HEAT_PALETTE and DARK_HEAT_PALETTE are globals.css's tokens (the server's images match the canvas)", () => {
    expect(cssPalette(":root")).toEqual(LIGHT_HEAT_PALETTE);
    expect(cssPalette(".dark")).toEqual(DARK_HEAT_PALETTE);
  });
});

describe("heatmapPreview", () => {
  const shades = [
    [Number.NaN, DEAD_SHADE, 0],
    [-1, 0.5, 1],
  ];
  const preview = heatmapPreview(2, 3, (r, c) => shades[r][c], ZLIB, (b) => Buffer.from(b).toString("base64"));

  it("draws one pixel per cell at the cell's level, in both themes' palettes", () => {
    const light = decodePng(dataUriBytes(preview.light));
    const dark = decodePng(dataUriBytes(preview.dark));
    expect(light.pixels).toEqual(shades.map((row) => row.map(shadeLevel)));
    expect(dark.pixels).toEqual(light.pixels);
    const colour = (png: typeof light, level: number) => Array.from(png.palette.subarray(level * 3, level * 3 + 3));
    expect(colour(light, 0)).toEqual(parseHex(LIGHT_HEAT_PALETTE.empty));
    expect(colour(dark, 0)).toEqual(parseHex(DARK_HEAT_PALETTE.empty));
    expect(colour(dark, shadeLevel(1))).toEqual(parseHex(shadeColor(1, DARK_HEAT_PALETTE)));
    expect(colour(light, shadeLevel(-1))).toEqual(parseHex(shadeColor(-1, LIGHT_HEAT_PALETTE)));
  });
});
