import { randomBytes } from "node:crypto";
import { createGunzip, gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { acceptsGzip, gzipOnce, SyncGzip } from "./syncGzip";

/** A body with repeats across chunk boundaries (as HTML has), so dictionaries matter. */
function htmlLike(n: number): Buffer {
  const parts: string[] = [];
  for (let i = 0, length = 0; length < n; i++) {
    parts.push(`<div class="row" data-i="${i % 97}">cell ${i % 13} ${"x".repeat(i % 31)}</div>`);
    length += parts[i].length;
  }
  return Buffer.from(parts.join("").slice(0, n));
}

function gzipInChunks(body: Buffer, sizes: number[]): Buffer[] {
  const gz = new SyncGzip();
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < body.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(gz.write(body.subarray(at, at + n)));
    at += n;
  }
  out.push(gz.end());
  return out;
}

describe("SyncGzip", () => {
  it.each([
    { name: "one chunk", body: htmlLike(50_000), sizes: [1e9] },
    { name: "small chunks", body: htmlLike(50_000), sizes: [1, 7, 100, 0, 3000] },
    { name: "chunks larger than the window", body: htmlLike(300_000), sizes: [70_000, 5] },
    { name: "incompressible bytes", body: randomBytes(100_000), sizes: [4096, 33_000] },
    { name: "an empty body", body: Buffer.alloc(0), sizes: [1] },
  ])("$name: the joined pieces are one gzip body of the input", ({ body, sizes }) => {
    expect(gunzipSync(Buffer.concat(gzipInChunks(body, sizes))).equals(body)).toBe(true);
  });

  it("compresses across chunks about as well as one stream (the dictionary carries the window)", () => {
    const body = htmlLike(200_000);
    const chunked = Buffer.concat(gzipInChunks(body, [2000])).length;
    expect(chunked).toBeLessThan(1.5 * gzipOnce(body).length);
  });

  it("every piece decodes as soon as it arrives (a streaming reader needs nothing after it)", async () => {
    const body = htmlLike(40_000);
    const pieces = gzipInChunks(body, [10_000]);
    const gunzip = createGunzip();
    const seen: Buffer[] = [];
    gunzip.on("data", (d: Buffer) => seen.push(d));
    const drained = () => new Promise<void>((resolve) => gunzip.flush(() => resolve()));
    // After the pieces of the first 20,000 bytes (header included), a reader holds all 20,000.
    gunzip.write(pieces[0]);
    gunzip.write(pieces[1]);
    await drained();
    expect(Buffer.concat(seen).equals(body.subarray(0, 20_000))).toBe(true);
    gunzip.end(Buffer.concat(pieces.slice(2)));
    await new Promise((resolve) => gunzip.on("end", resolve));
    expect(Buffer.concat(seen).equals(body)).toBe(true);
  });
});

describe("acceptsGzip", () => {
  it.each([
    { header: undefined, want: false },
    { header: "", want: false },
    { header: "gzip", want: true },
    { header: "gzip, deflate, br, zstd", want: true },
    { header: "deflate, gzip", want: true },
    { header: "br", want: false },
    { header: "identity", want: false },
    { header: "identity, gzip", want: false },
    { header: "gzip, identity", want: true },
    { header: "gzip;q=0", want: false },
    { header: "gzip;q=0.5, identity", want: false },
    { header: "gzip;q=0.5", want: true },
    { header: "gzip;q=0.5, br;q=0.2", want: true },
    { header: "*", want: true },
    { header: "*;q=0", want: false },
    { header: "identity;q=0, gzip;q=0.1", want: true },
    { header: "GZIP", want: true },
  ])("$header -> $want", ({ header, want }) => {
    expect(acceptsGzip(header)).toBe(want);
  });
});
