/**
 * A palette-indexed PNG (colour type 3, 8 bits per pixel), for heatmap cells drawn on the server: one pixel
 * per cell, each pixel a level of the heat scale, the palette one theme's colours for those levels. The same
 * pixels with another palette is the other theme's image.
 *
 * Pure: the zlib stream and the chunks' CRC-32 come from the caller (node:zlib on the server).
 */

/** IndexedImage: width x height palette indexes, row by row. */
export interface IndexedImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** PngZlib: the two zlib functions a PNG needs, passed in so this module stays pure (node:zlib's on the server). */
export interface PngZlib {
  /** A zlib stream (RFC 1950) of the bytes. */
  deflate: (raw: Uint8Array) => Uint8Array;
  /** CRC-32 (ISO 3309) of the bytes, as a PNG chunk's trailer holds it. */
  crc32: (bytes: Uint8Array) => number;
}

function chunk(type: string, data: Uint8Array, crc32: PngZlib["crc32"]): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * encodeIndexedPng encodes `image` with `paletteRgb` (3 bytes per entry, at most 256 entries; every pixel must
 * index an entry). `zlib.deflate` turns the filtered scanlines into the image data's zlib stream.
 */
export function encodeIndexedPng(image: IndexedImage, paletteRgb: Uint8Array, zlib: PngZlib): Uint8Array {
  const { width, height, pixels } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodeIndexedPng: image is ${width} x ${height}, expected positive integers`);
  }
  if (pixels.length !== width * height) {
    throw new Error(`encodeIndexedPng: ${pixels.length} pixels for a ${width} x ${height} image (expected ${width * height})`);
  }
  const entries = paletteRgb.length / 3;
  if (!Number.isInteger(entries) || entries < 1 || entries > 256) {
    throw new Error(`encodeIndexedPng: palette of ${paletteRgb.length} bytes, expected 3 per entry and 1-256 entries`);
  }
  for (let i = 0; i < pixels.length; i++) {
    if (pixels[i] >= entries) throw new Error(`encodeIndexedPng: pixel ${i} is index ${pixels[i]}, the palette has ${entries} entries`);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bits per index
  ihdr[9] = 3; // palette-indexed
  // Compression, filter and interlace methods: 0 (deflate, adaptive filtering with per-row types, none).
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) {
    // Filter type 0 (None) on every row: the cells are levels, not smooth photographic values.
    raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const parts = [
    Uint8Array.from(SIGNATURE),
    chunk("IHDR", ihdr, zlib.crc32),
    chunk("PLTE", paletteRgb, zlib.crc32),
    chunk("IDAT", zlib.deflate(raw), zlib.crc32),
    chunk("IEND", new Uint8Array(0), zlib.crc32),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
