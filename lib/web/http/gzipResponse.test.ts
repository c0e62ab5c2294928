import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { constants, gunzipSync, inflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest, type RawResponse } from "../../../test/rawHttp";
import { gzipResponses, withVary } from "./gzipResponse";

const BIG = "<p>streamed panel</p>".repeat(200); // 4 KB
let release: () => void = () => {};
let server: http.Server;
let base = "";

/** Handlers written the ways Next writes responses: setHeader + write/end, writeHead with headers, one end(). */
const HANDLERS: Record<string, (res: ServerResponse) => void | Promise<void>> = {
  "/html": (res) => {
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.write("<!doctype html><head>");
    res.write(BIG);
    res.end("</html>");
  },
  "/stream": async (res) => {
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.write(`<head>${BIG}</head>`);
    await new Promise<void>((resolve) => (release = resolve));
    res.end("<footer>end</footer>");
  },
  "/headers-in-writeHead": (res) => {
    res.writeHead(200, { "content-type": "application/json", vary: "rsc" });
    res.end(JSON.stringify({ big: BIG }));
  },
  "/small": (res) => {
    res.setHeader("content-type", "application/json");
    res.end('{"ok":true}');
  },
  "/png": (res) => {
    res.setHeader("content-type", "image/png");
    res.end(Buffer.alloc(5000, 7));
  },
  "/no-transform": (res) => {
    res.setHeader("content-type", "text/plain");
    res.setHeader("cache-control", "no-transform");
    res.end(BIG);
  },
  "/already-encoded": (res) => {
    res.setHeader("content-type", "text/plain");
    res.setHeader("content-encoding", "br");
    res.end(Buffer.alloc(2000, 1));
  },
  "/not-modified": (res) => {
    res.statusCode = 304;
    res.setHeader("content-type", "text/html");
    res.end();
  },
};

beforeAll(async () => {
  server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    gzipResponses(req, res);
    void HANDLERS[req.url ?? ""](res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A request with only Accept-Encoding set; `raw` is the body as sent. */
async function get(path: string, acceptEncoding?: string, method = "GET"): Promise<{ status: number; headers: RawResponse["headers"]; raw: Buffer }> {
  const r = await rawRequest(base, path, acceptEncoding ? { "accept-encoding": acceptEncoding } : {}, method);
  return { status: r.status, headers: r.headers, raw: r.wire };
}

describe("gzipResponses", () => {
  it.each([
    { path: "/html", body: `<!doctype html><head>${BIG}</html>`, vary: "Accept-Encoding" },
    { path: "/headers-in-writeHead", body: JSON.stringify({ big: BIG }), vary: "rsc, Accept-Encoding" },
  ])("gzips $path for a client that takes gzip, and not for one that does not", async ({ path, body, vary }) => {
    const gz = await get(path, "gzip, deflate, br");
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gz.headers["vary"]).toBe(vary);
    expect(gz.headers["content-length"]).toBeUndefined();
    expect(gunzipSync(gz.raw).toString()).toBe(body);
    const plain = await get(path);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.headers["vary"]).toBe(vary);
    expect(plain.raw.toString()).toBe(body);
  });

  it.each([
    { path: "/small", why: "a body under 1 KiB written at once", vary: "Accept-Encoding" },
    { path: "/png", why: "a type that does not compress", vary: undefined },
    { path: "/no-transform", why: "Cache-Control: no-transform", vary: undefined },
    { path: "/already-encoded", why: "a body already encoded", vary: "Accept-Encoding" },
    { path: "/not-modified", why: "a 304", vary: "Accept-Encoding" },
  ])("leaves $path alone: $why", async ({ path, vary }) => {
    const r = await get(path, "gzip");
    expect(r.headers["content-encoding"] ?? "identity").not.toBe("gzip");
    expect(r.headers["vary"]).toBe(vary);
  });

  it("leaves HEAD alone", async () => {
    const r = await get("/html", "gzip", "HEAD");
    expect(r.headers["content-encoding"]).toBeUndefined();
  });

  it("sends each piece as it is written: the head arrives, decodable, while the handler still waits", async () => {
    const head = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request(`${base}/stream`, { headers: { "accept-encoding": "gzip" } }, (res) => {
        expect(res.headers["content-encoding"]).toBe("gzip");
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => {
          parts.push(d);
          // The whole head is decodable before the handler is released (no trailer needed to read it).
          try {
            const text = inflateRawSync(Buffer.concat(parts).subarray(10), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
            if (text === `<head>${BIG}</head>`) {
              release();
              resolve(Buffer.concat(parts));
            }
          } catch {
            // not complete yet
          }
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
    expect(head.length).toBeGreaterThan(10);
  });
});

describe("withVary", () => {
  it.each([
    { current: undefined, want: "Accept-Encoding" },
    { current: "rsc", want: "rsc, Accept-Encoding" },
    { current: "accept-encoding", want: "accept-encoding" },
    { current: "*", want: "*" },
    { current: ["rsc", "next-router-state-tree"], want: "rsc, next-router-state-tree, Accept-Encoding" },
  ])("$current -> $want", ({ current, want }) => {
    expect(withVary(current)).toBe(want);
  });
});
