/**
 * Gzip for what Next answers through the dashboard server (next.config.js sets `compress: false`): the rules
 * of Next's compression (compressible types, the 1 KiB threshold, Vary, no-transform, HEAD, already encoded),
 * but each write compressed synchronously by SyncGzip, so a streamed page's head and panels leave at once
 * instead of waiting in zlib's thread pool for an event-loop turn that the page's SQLite reads hold
 * (lib/web/http/syncGzip.ts says what that cost).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { acceptsGzip, SyncGzip } from "./syncGzip";

/** Types worth compressing: text (HTML, CSS, RSC's text/x-component), JSON, JavaScript, XML, SVG. */
const COMPRESSIBLE = /^\s*(text\/|application\/(json|javascript|x-javascript|ecmascript|xml|manifest\+json|[a-z.+-]*\+json|[a-z.+-]*\+xml)|image\/svg\+xml)/i;
/**
 * Below this many bytes (a known Content-Length or a body written in one piece) gzip is not worth it: the
 * threshold of Next's compression, for static files (staticAssets.ts) too.
 */
export const COMPRESS_THRESHOLD = 1024;

/** withVary adds `Accept-Encoding` to a Vary header value unless it (or `*`) is already there. */
export function withVary(current: number | string | string[] | undefined, field = "Accept-Encoding"): string {
  const value = Array.isArray(current) ? current.join(", ") : current === undefined ? "" : String(current);
  const fields = value.split(",").map((f) => f.trim()).filter(Boolean);
  if (fields.some((f) => f === "*" || f.toLowerCase() === field.toLowerCase())) return value;
  return [...fields, field].join(", ");
}

type Callback = (err?: Error | null) => void;

/**
 * gzipResponses makes `res` gzip its body when the request accepts gzip and the response qualifies. Call it
 * before handing the response to Next; the decision is taken when the headers go out.
 */
export function gzipResponses(req: IncomingMessage, res: ServerResponse): void {
  const wanted = req.method !== "HEAD" && acceptsGzip(req.headers["accept-encoding"]);
  const writeHead = res.writeHead.bind(res) as (status: number, message?: string) => ServerResponse;
  const write = res.write.bind(res) as (chunk: Buffer | string, encoding?: BufferEncoding | Callback, cb?: Callback) => boolean;
  const end = res.end.bind(res) as (chunk?: Buffer | string | Callback, encoding?: BufferEncoding | Callback, cb?: Callback) => ServerResponse;
  /** undefined until decided; null for a body that goes out as it is. */
  let gz: SyncGzip | null | undefined;

  const decide = (firstChunk?: number) => {
    if (gz !== undefined || res.headersSent) return;
    gz = null;
    if (!COMPRESSIBLE.test(String(res.getHeader("content-type") ?? ""))) return;
    if (/(?:^|,)\s*no-transform\s*(?:,|$)/i.test(String(res.getHeader("cache-control") ?? ""))) return;
    res.setHeader("vary", withVary(res.getHeader("vary")));
    if (!wanted || res.statusCode === 204 || res.statusCode === 304) return;
    const length = res.getHeader("content-length") !== undefined ? Number(res.getHeader("content-length")) : firstChunk;
    if (length !== undefined && length < COMPRESS_THRESHOLD) return;
    const encoding = String(res.getHeader("content-encoding") ?? "identity").toLowerCase();
    if (encoding !== "identity") return;
    gz = new SyncGzip();
    res.setHeader("content-encoding", "gzip");
    res.removeHeader("content-length");
  };

  const bytesOf = (chunk: unknown, encoding?: BufferEncoding): Buffer =>
    Buffer.isBuffer(chunk) ? chunk : typeof chunk === "string" ? Buffer.from(chunk, encoding) : Buffer.from(chunk as Uint8Array);

  res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
    // Headers passed here are applied first, so the decision sees them (writeHead(status[, message][, headers])).
    const headers = rest.find((r) => typeof r === "object" && r !== null) as OutgoingHttpHeaders | string[] | undefined;
    const message = rest.find((r) => typeof r === "string") as string | undefined;
    if (headers) {
      if (Array.isArray(headers)) for (let i = 0; i + 1 < headers.length; i += 2) this.setHeader(headers[i], headers[i + 1]);
      else for (const [k, v] of Object.entries(headers)) if (v !== undefined) this.setHeader(k, v);
    }
    this.statusCode = status;
    decide();
    return writeHead(status, message);
  } as ServerResponse["writeHead"];

  res.write = function (chunk: unknown, encoding?: BufferEncoding | Callback, cb?: Callback) {
    const callback = typeof encoding === "function" ? encoding : cb;
    const enc = typeof encoding === "string" ? encoding : undefined;
    decide();
    if (!gz) return write(chunk as Buffer | string, encoding, cb);
    return write(gz.write(bytesOf(chunk, enc)), callback);
  } as ServerResponse["write"];

  res.end = function (chunk?: unknown, encoding?: BufferEncoding | Callback, cb?: Callback) {
    const callback = typeof chunk === "function" ? (chunk as Callback) : typeof encoding === "function" ? encoding : cb;
    const data = typeof chunk === "function" || chunk === undefined || chunk === null ? undefined : chunk;
    const enc = typeof encoding === "string" ? encoding : undefined;
    decide(data === undefined ? 0 : bytesOf(data, enc).length);
    if (!gz) return end(chunk as Buffer | string | Callback | undefined, encoding, cb);
    const tail = data === undefined ? gz.end() : Buffer.concat([gz.write(bytesOf(data, enc)), gz.end()]);
    return end(tail, callback);
  } as ServerResponse["end"];
}
