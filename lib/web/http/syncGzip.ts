/**
 * Gzip made synchronously, chunk by chunk, so each piece of a streamed page reaches the socket the moment it
 * is written.
 *
 * Why not zlib's stream (what Next's compression uses): its output comes back through libuv's thread pool and
 * needs a turn of the event loop, and the dashboard's SQLite reads hold the loop for tens of milliseconds at a
 * time. A run page's head and first panels then sat in the compressor until the reads were done (first gzipped
 * bytes at 0.6-1.0 s against 0.1-0.2 s uncompressed), so the browser asked for the CSS and scripts late.
 *
 * How: every chunk is deflated on its own with deflateRawSync, given the previous 32 KiB of the body as its
 * dictionary (what a single stream's window would hold) and ended with a sync flush, so the pieces join into one
 * raw deflate stream that any gzip reader decodes; gzip's header goes before the first and an empty final block,
 * the CRC-32 and the length after the last (RFC 1951 and 1952).
 */
import { constants, crc32, deflateRawSync } from "node:zlib";

/**
 * GZIP_LEVEL: zlib's fastest level, as nginx's gzip uses by default. Every page and heatmap answer is
 * compressed on the request's thread: level 6 (zlib's default, Next's) took 3.2-3.9 ms for a 56 KB heatmap
 * answer and ~23 ms for a 100k-step run page; level 1 takes a quarter of that for ~10% more bytes.
 */
const GZIP_LEVEL = 1;
const WINDOW = 32 * 1024;
/** Gzip's 10-byte header: magic, deflate, no flags, no time, no extra flags, OS unknown. */
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** An empty final block (fixed Huffman codes, end-of-block only) after a byte-aligned sync flush. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** SyncGzip: one gzip body, fed in order; each call returns the bytes that can be sent now. */
export class SyncGzip {
  private crc = 0;
  private size = 0;
  private window: Buffer = Buffer.alloc(0);
  private started = false;

  /** write compresses `data` and returns the compressed bytes to send now (the header too, the first time). */
  write(data: Uint8Array): Buffer {
    const head = this.started ? null : HEADER;
    this.started = true;
    if (data.length === 0) return head ?? Buffer.alloc(0);
    const deflated = deflateRawSync(data, {
      level: GZIP_LEVEL,
      finishFlush: constants.Z_SYNC_FLUSH,
      ...(this.window.length > 0 ? { dictionary: this.window } : {}),
    });
    this.crc = crc32(data, this.crc);
    this.size = (this.size + data.length) >>> 0;
    const chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.window = chunk.length >= WINDOW ? Buffer.from(chunk.subarray(chunk.length - WINDOW)) : Buffer.concat([this.window, chunk]).subarray(-WINDOW);
    return head ? Buffer.concat([head, deflated]) : deflated;
  }

  /** end returns the last bytes: the final block and gzip's trailer (CRC-32 and length mod 2^32, little-endian). */
  end(): Buffer {
    const head = this.started ? null : HEADER;
    this.started = true;
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size, 4);
    return Buffer.concat([...(head ? [head] : []), FINAL_BLOCK, trailer]);
  }
}

/** gzipOnce is a whole body through SyncGzip: the same bytes a response written in one chunk gets. */
export function gzipOnce(body: Uint8Array): Buffer {
  const gz = new SyncGzip();
  return Buffer.concat([gz.write(body), gz.end()]);
}

/** acceptedCodings: each content coding an Accept-Encoding header names, with its q-value and position (first mention wins). */
function acceptedCodings(header: string): Map<string, { q: number; at: number }> {
  const named = new Map<string, { q: number; at: number }>();
  header.split(",").forEach((part, at) => {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name || named.has(name)) return;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (Number.isFinite(q)) named.set(name, { q, at });
  });
  return named;
}

/**
 * acceptsGzip: whether to gzip a response for this Accept-Encoding header, offering gzip and identity (the
 * negotiation of Next's compression, minus deflate): the higher q-value wins, a tie goes to the encoding the
 * client lists first; `*` stands for either when it is not named; identity unnamed ranks last with the lowest
 * q-value listed; q=0 refuses.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  const named = acceptedCodings(header);
  const gzip = named.get("gzip") ?? named.get("*");
  if (!gzip || gzip.q <= 0) return false;
  const lowest = Math.min(1, ...[...named.values()].map((c) => c.q || 1));
  const identity = named.get("identity") ?? named.get("*") ?? { q: lowest, at: Infinity };
  return gzip.q > identity.q || (gzip.q === identity.q && gzip.at <= identity.at);
}

/** acceptsBrotli: whether an Accept-Encoding header names br with a q-value above 0 (`*` does not count: brotli is only sent where asked for by name). */
export function acceptsBrotli(header: string | undefined): boolean {
  const br = header ? acceptedCodings(header).get("br") : undefined;
  return br !== undefined && br.q > 0;
}
