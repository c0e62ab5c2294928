/**
 * The dashboard's HTTP server, what `moe-telemetry serve` runs as its child process: Next.js through its
 * custom-server API (`next({ dev: false, dir })`, `prepare()`, `getRequestHandler()`), with two kinds of
 * request answered before Next's per-request pipeline: the build's static files (`/_next/static/...`, from
 * memory: lib/web/http/staticAssets.ts says why and how) and the expert heatmap route below.
 *
 * Why (issue 9, "the one-layer expert heatmap over all steps at least 10x faster than Prometheus"): the answer
 * itself costs 1-5 ms in process (expertHeatmapSqlite.ts, cached until the database changes), but through Next
 * a request also paid its routing, proxy and route-module pipeline (6-23 ms for a trivial route on these two
 * cores), gzip of the whole body on every request, and a module load on the first request after start.
 * Here GET /api/runs/{runId}/heatmap/experts goes through the same access decision as proxy.ts
 * (lib/web/auth/accessDecision.ts), the same parse/encode module as the Next route
 * (lib/web/http/expertHeatmapHttp.ts), and is gzipped once per answer. Everything else, including any
 * request to that path this server does not recognise as the common case (HEAD, unusual run ids), goes to
 * Next unchanged, which answers it the same way. What Next answers is gzipped by gzipResponses (Next's own
 * compression is off in next.config.js), chunk by chunk and synchronously, so streamed pages stream.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import path from "node:path";
import next from "next";
import { accessDecision, DENY_HEADERS, type GateDecision } from "../auth/accessDecision";
import { SESSION_COOKIE } from "../auth/config";
import { trustedProxies, trustForwarding } from "../auth/forwarding";
import { parseEnv } from "../../runtime/env";
import { EncodedHeatmap, expertHeatmapAnswer, expertHeatmapHeaders, notModified } from "./expertHeatmapHttp";
import { warmExpertHeatmapCode, warmExpertHeatmapSqlite } from "../data/expertHeatmapSqlite";
import { errorResponse } from "./http";
import { acceptsGzip, gzipOnce } from "./syncGzip";
import { getDb } from "../data/webDb";
import { gzipResponses } from "./gzipResponse";
import { StaticAssets } from "./staticAssets";

/** DashboardServer: a listening dashboard and how to stop it. */
export interface DashboardServer {
  server: http.Server;
  /** The port it listens on (the one asked for, or the one the OS picked for 0). */
  port: number;
  close(graceMs?: number): Promise<void>;
}

/** DashboardServerOptions: the built app's directory and where to listen. */
export interface DashboardServerOptions {
  /** The directory holding `.next` (the project root). */
  dir: string;
  port: number;
  /** Bind address; all interfaces when unset, as `next start` does. */
  host?: string;
  /** Reverse proxies whose forwarding headers are believed (default: TRUSTED_PROXIES; none when unset). */
  trustedProxies?: readonly string[];
}

/** MAX_URL_BYTES: longest request target answered; longer ones get 414 (every dashboard link is far shorter). */
export const MAX_URL_BYTES = 8 * 1024;

/**
 * answerClientError answers a request Node's HTTP parser refused (headers or URL past its 16 KB limit: 431,
 * anything else malformed: 400) and closes the connection gracefully: the client's remaining bytes are read
 * and dropped for a moment, because closing a socket with unread input sends a TCP reset, and the client then
 * sees "connection reset" instead of the status (issue 18.8).
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
  if (socket.writable && socket.bytesWritten === 0) {
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${status.length + 1}\r\n\r\n${status}\n`);
  } else socket.end();
  socket.on("error", () => undefined);
  socket.resume();
  setTimeout(() => socket.destroy(), 2_000).unref();
}

/** refuseLongUrl answers 414 and returns true when the request target is longer than MAX_URL_BYTES. */
export function refuseLongUrl(req: IncomingMessage, res: ServerResponse): boolean {
  if ((req.url ?? "").length <= MAX_URL_BYTES) return false;
  const body = JSON.stringify({ error: `the URL is longer than ${MAX_URL_BYTES} bytes` });
  res.writeHead(414, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close" });
  res.end(body);
  return true;
}

/** Run ids are UUIDs; anything else (percent-escapes, dots) is left to Next's own path decoding. */
const HEATMAP_PATH = /^\/api\/runs\/([A-Za-z0-9_-]{1,200})\/heatmap\/experts$/;

/**
 * Vary of Next's answers, which clients and caches see: a route handler's response varies on Next's router
 * headers, and every JSON response on Accept-Encoding (added by gzipResponses). The e2e test
 * e2e/heatmapFastPath.spec.ts compares these with what Next sends for the same requests.
 */
const ROUTE_VARY = "rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch, Accept-Encoding";
const GATE_VARY = "Accept-Encoding";

/**
 * send writes one complete response. Like Next's answers through gzipResponses, a body goes out gzipped
 * whenever the client prefers gzip (a route's streamed body has no length, so no size threshold applies);
 * unlike them, with a Content-Length.
 */
function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | null, gzip: (() => Buffer) | null): void {
  const out: Record<string, string | number> = { ...headers };
  let bytes = body;
  if (body && gzip) {
    bytes = gzip();
    out["content-encoding"] = "gzip";
  }
  if (bytes) out["content-length"] = bytes.length;
  res.writeHead(status, out);
  res.end(bytes ?? undefined);
}

function headersOf(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) h.append(name, v);
    else if (value !== undefined) h.set(name, value);
  }
  return h;
}

async function sendError(res: ServerResponse, err: unknown, gzip: boolean): Promise<void> {
  // The route's own mapping from the error hierarchy (status, JSON body naming the field, no-store).
  const r = errorResponse(err);
  const body = Buffer.from(await r.arrayBuffer());
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => (headers[k] = v));
  headers.vary = ROUTE_VARY;
  send(res, r.status, headers, body, gzip ? () => gzipOnce(body) : null);
}

function sendDecision(res: ServerResponse, d: Exclude<GateDecision, { action: "pass" }>, gzip: boolean): void {
  if (d.action === "redirect") {
    res.writeHead(307, { ...DENY_HEADERS, location: d.location });
    res.end();
    return;
  }
  const body = Buffer.from(JSON.stringify({ error: d.error }));
  send(res, d.status, { "content-type": "application/json", ...DENY_HEADERS, vary: GATE_VARY }, body, gzip ? () => gzipOnce(body) : null);
}

/**
 * serveExpertHeatmap answers GET /api/runs/{runId}/heatmap/experts and returns true, or returns false without
 * touching the response when the request is not one it serves (Next then answers it).
 */
export async function serveExpertHeatmap(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (req.method !== "GET" || !req.url) return false;
  const q = req.url.indexOf("?");
  const pathname = q < 0 ? req.url : req.url.slice(0, q);
  const m = HEATMAP_PATH.exec(pathname);
  if (!m) return false;
  const gzip = acceptsGzip(req.headers["accept-encoding"]);
  const url = `http://localhost${req.url}`;
  const gate = await accessDecision({ method: req.method, url, pathname, search: q < 0 ? "" : req.url.slice(q), headers: headersOf(req) });
  if (gate.action !== "pass") {
    sendDecision(res, gate, gzip);
    return true;
  }
  let answer: EncodedHeatmap;
  try {
    answer = await expertHeatmapAnswer(m[1], url);
  } catch (err) {
    await sendError(res, err, gzip);
    return true;
  }
  const headers = { ...expertHeatmapHeaders(answer.etag), vary: ROUTE_VARY };
  if (notModified(req.headers["if-none-match"], answer.etag)) send(res, 304, headers, null, null);
  else send(res, 200, headers, answer.body, gzip ? () => answer.gzipped() : null);
  return true;
}

/**
 * warmDashboard does at start what the first heatmap request would otherwise pay for: open the database
 * (migrations checked), prepare the SQLite statements, get the decode loop optimized and serialize, hash and
 * gzip once (on synthetic data), and run the request's code once on a run that does not exist (query parsing,
 * the run lookup, which on PostgreSQL plans Prisma's query; the session lookup when login is on, with a
 * secret that matches nothing, so nothing is written).
 */
export async function warmDashboard(): Promise<void> {
  const db = await getDb();
  const conn = db.sqlite();
  if (conn) warmExpertHeatmapSqlite(conn);
  new EncodedHeatmap(warmExpertHeatmapCode()).gzipped();
  await expertHeatmapAnswer("00000000-0000-0000-0000-000000000000", "http://localhost/?layer=1").catch(() => undefined);
  await accessDecision({
    method: "GET",
    url: "http://localhost/api/runs",
    pathname: "/api/runs",
    search: "",
    headers: new Headers({ cookie: `${SESSION_COOKIE}=warm-up` }),
  });
}

function listen(server: http.Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * startDashboardServer listens, prepares Next on the built app in `dir` and warms the fast path; requests that
 * arrive before both are done wait for them. `close()` stops accepting requests, ends the ones still open
 * (live streams) after `graceMs`, and closes Next and the database.
 */
export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  let nextHandler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | null = null;
  let assets: StaticAssets | null = null;
  let markReady: () => void = () => {};
  let markFailed: (err: unknown) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  ready.catch(() => undefined);
  const proxies = trustedProxies(o.trustedProxies ?? parseEnv().TRUSTED_PROXIES);
  const server = http.createServer((req, res) => {
    // First, before anything reads a header: forwarding headers only from a trusted proxy (auth/forwarding.ts).
    trustForwarding(req, proxies);
    if (refuseLongUrl(req, res)) return;
    void (async () => {
      try {
        await ready;
        if (assets!.serve(req, res)) return;
        if (await serveExpertHeatmap(req, res)) return;
        gzipResponses(req, res);
        await nextHandler!(req, res);
      } catch (err) {
        console.error(`dashboard: failed to handle ${req.method} ${req.url}:`, err);
        if (res.headersSent) res.destroy();
        else {
          res.statusCode = 500;
          res.end("Internal Server Error");
        }
      }
    })();
  });
  server.on("clientError", answerClientError);
  const port = await listen(server, o.port, o.host);
  const app = next({ dev: false, dir: o.dir, port, hostname: o.host, httpServer: server });
  // Beside Next's start-up: reading is I/O and compressing runs in zlib's thread pool (0.14-0.32 s for this app's build).
  const opening = StaticAssets.open(path.join(o.dir, ".next", "static"));
  opening.catch(() => undefined);
  try {
    await app.prepare();
    // After Next's start-up rather than beside it: code optimized before that much loading did not stay optimized.
    await warmDashboard();
    assets = await opening;
  } catch (err) {
    markFailed(err);
    server.close();
    throw err;
  }
  nextHandler = app.getRequestHandler();
  markReady();
  let closed: Promise<void> | null = null;
  const close = (graceMs = 3_000) =>
    (closed ??= (async () => {
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      clearTimeout(force);
      await app.close();
      await (await getDb()).close();
    })());
  return { server, port, close };
}
