/**
 * The build's hashed assets (`/_next/static/...`: the page's CSS and JS chunks, fonts, media), answered by the
 * dashboard server itself from memory instead of by Next.
 *
 * Why (issue 9, run page paint): through Next a static file goes through its whole request pipeline on the same
 * thread that renders the run page, so on a cold load of a large run the page's CSS and JS arrived only at
 * 0.9-1.3 s (BENCHMARKS.md, "Run page after the plain-SVG charts and lighter reads", next lever 1). Here each
 * file is read and compressed once at start, and a request costs a map lookup and one write.
 *
 * The answers are the ones Next gives for the same file (`send`, gzipped by lib/web/http/gzipResponse.ts with the rules of
 * Next's compression), checked by e2e/staticAssets.spec.ts: the same Content-Type, `Cache-Control: public,
 * max-age=31536000, immutable`, ETag (send's weak size-mtime tag) and Last-Modified, Accept-Ranges, 304 on a
 * matching If-None-Match (or If-Modified-Since alone), gzip only for compressible types of 1 KiB or more, Vary:
 * Accept-Encoding on compressible types. Two differences: a Content-Length always (Next streams gzip chunked), and
 * brotli for clients that list br, which Next does not offer (made at start with gzip; see BROTLI_QUALITY).
 *
 * Static files do not go through the access decision: proxy.ts's matcher excludes `_next/static`, so Next serves
 * them to anyone too. Everything this module does not recognise as the common case goes to Next unchanged: other
 * methods, Range and precondition headers, and any path that is not exactly a regular file found in the build's
 * static directory at start (`..`, percent escapes, a backslash, an empty segment, an unknown extension, a file
 * added later). Request paths are only ever looked up in that index, never joined onto the file system.
 */
import fs from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { notModified } from "./expertHeatmapHttp";
import { acceptsBrotli, acceptsGzip } from "./syncGzip";
import { COMPRESS_THRESHOLD } from "./gzipResponse";

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

/** STATIC_PREFIX: the URL path Next serves `<dir>/.next/static` under (no basePath or assetPrefix configured). */
export const STATIC_PREFIX = "/_next/static/";

/** Larger files stay with Next rather than in memory; the build's own are well under this. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
/**
 * Brotli quality 6: on this app's build (31 files, 1.3 MB) it costs about what gzip does (~45 ms for all
 * files) and is 7% smaller than gzip; quality 11 would be 15% smaller but costs ~1.6 s of CPU, which on two
 * shared cores competes with the first page loads after start, for ~30 KB that rarely cross a slow link.
 */
const BROTLI_QUALITY = 6;

/**
 * What Next sends for each extension (send's mime table, charset for text and JavaScript/JSON) and whether
 * its compression gzips that type (mime-db's compressible flag). Other extensions are left to Next.
 */
const TYPES: Record<string, { type: string; compressible: boolean }> = {
  js: { type: "application/javascript; charset=UTF-8", compressible: true },
  mjs: { type: "application/javascript; charset=UTF-8", compressible: true },
  css: { type: "text/css; charset=UTF-8", compressible: true },
  json: { type: "application/json; charset=UTF-8", compressible: true },
  map: { type: "application/json; charset=UTF-8", compressible: true },
  txt: { type: "text/plain; charset=UTF-8", compressible: true },
  svg: { type: "image/svg+xml", compressible: true },
  ico: { type: "image/x-icon", compressible: true },
  wasm: { type: "application/wasm", compressible: true },
  ttf: { type: "font/ttf", compressible: true },
  otf: { type: "font/otf", compressible: true },
  woff: { type: "font/woff", compressible: false },
  woff2: { type: "font/woff2", compressible: false },
  png: { type: "image/png", compressible: false },
  jpg: { type: "image/jpeg", compressible: false },
  jpeg: { type: "image/jpeg", compressible: false },
  gif: { type: "image/gif", compressible: false },
  webp: { type: "image/webp", compressible: false },
  avif: { type: "image/avif", compressible: false },
};

/** staticContentType: Next's Content-Type for a file name and whether Next gzips it, or undefined for an extension left to Next. */
export function staticContentType(name: string): { type: string; compressible: boolean } | undefined {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? undefined : TYPES[name.slice(dot + 1).toLowerCase()];
}

/**
 * staticAssetKey: the path under the static directory that a request URL names (`chunks/abc.js` for
 * `/_next/static/chunks/abc.js?v=1`), or undefined when the URL is not one this module may serve: outside the
 * prefix, percent-escaped, with a backslash, a NUL, an empty, `.` or `..` segment.
 */
export function staticAssetKey(url: string): string | undefined {
  const q = url.indexOf("?");
  const pathname = q < 0 ? url : url.slice(0, q);
  if (!pathname.startsWith(STATIC_PREFIX)) return undefined;
  const key = pathname.slice(STATIC_PREFIX.length);
  if (!key || /[%\\\0]/.test(key)) return undefined;
  if (key.split("/").some((s) => s === "" || s === "." || s === "..")) return undefined;
  return key;
}

/** fresh: whether a GET with these headers may be answered 304, by `send`'s rules (If-None-Match first, then If-Modified-Since; never under Cache-Control: no-cache). */
export function fresh(headers: IncomingMessage["headers"], etag: string, lastModified: string): boolean {
  const inm = headers["if-none-match"];
  const ims = headers["if-modified-since"];
  if (!inm && !ims) return false;
  if (/(?:^|,)\s*no-cache\s*(?:,|$)/.test(headers["cache-control"] ?? "")) return false;
  if (inm) return notModified(inm, etag);
  const since = Date.parse(ims!);
  return !Number.isNaN(since) && Date.parse(lastModified) <= since;
}

/** One file of the build, as it is sent. */
interface Asset {
  file: string;
  type: string;
  compressible: boolean;
  etag: string;
  lastModified: string;
  body: Buffer;
  /** Set for compressible files of 1 KiB or more. */
  gzipped?: Buffer;
  /** Set with gzipped, when smaller than it. */
  brotli?: Buffer;
}

/** Headers that make a request one for Next: byte ranges and preconditions `send` evaluates. */
const LEFT_TO_NEXT_HEADERS = ["range", "if-range", "if-match", "if-unmodified-since"];

/** StaticAssets: the files of one build's static directory in memory, and the handler that answers them. */
export class StaticAssets {
  private constructor(private readonly assets: Map<string, Asset>) {}

  /**
   * open reads every regular file under `dir` (symbolic links and larger files are left to Next), tags each
   * as `send` does and compresses the compressible ones (gzip and brotli, in zlib's thread pool). A missing
   * `dir` gives an empty set.
   */
  static async open(dir: string): Promise<StaticAssets> {
    const assets = new Map<string, Asset>();
    let names: string[];
    try {
      names = await fs.readdir(dir, { recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new StaticAssets(assets);
      throw err;
    }
    await Promise.all(
      names.map(async (name) => {
        const key = name.split(path.sep).join("/");
        const kind = staticContentType(key);
        if (!kind || staticAssetKey(STATIC_PREFIX + key) !== key) return;
        const file = path.join(dir, name);
        const st = await fs.lstat(file);
        if (!st.isFile() || st.size > MAX_FILE_BYTES) return;
        const body = await fs.readFile(file);
        if (body.length !== st.size) return; // changed while read: Next serves it
        const asset: Asset = {
          file,
          ...kind,
          // send's ETag and Last-Modified, so a tag a browser got from either server validates on both.
          etag: `W/"${st.size.toString(16)}-${st.mtime.getTime().toString(16)}"`,
          lastModified: st.mtime.toUTCString(),
          body,
        };
        if (kind.compressible && body.length >= COMPRESS_THRESHOLD) {
          const [gz, br] = await Promise.all([
            gzip(body),
            brotli(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
          ]);
          asset.gzipped = gz;
          if (br.length < gz.length) asset.brotli = br;
        }
        assets.set(key, asset);
      }),
    );
    return new StaticAssets(assets);
  }

  /** size: how many files are served from memory. */
  get size(): number {
    return this.assets.size;
  }

  /**
   * serve answers GET or HEAD of a file in the index and returns true, or returns false without touching the
   * response when Next should answer the request.
   */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if ((req.method !== "GET" && req.method !== "HEAD") || !req.url?.startsWith(STATIC_PREFIX)) return false;
    const key = staticAssetKey(req.url);
    const asset = key === undefined ? undefined : this.assets.get(key);
    if (!asset) return false;
    if (LEFT_TO_NEXT_HEADERS.some((h) => req.headers[h] !== undefined)) return false;
    const accept = req.headers["accept-encoding"];

    const headers: Record<string, string | number> = {
      "cache-control": "public, max-age=31536000, immutable",
      "accept-ranges": "bytes",
      "last-modified": asset.lastModified,
      etag: asset.etag,
    };
    if (fresh(req.headers, asset.etag, asset.lastModified)) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    headers["content-type"] = asset.type;
    if (asset.compressible) headers.vary = "Accept-Encoding";
    let body = asset.body;
    // As Next: HEAD describes the identity body (its compression skips HEAD).
    if (req.method === "GET" && asset.gzipped) {
      if (asset.brotli && acceptsBrotli(accept)) {
        body = asset.brotli;
        headers["content-encoding"] = "br";
      } else if (acceptsGzip(accept)) {
        body = asset.gzipped;
        headers["content-encoding"] = "gzip";
      }
    }
    headers["content-length"] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  }
}
