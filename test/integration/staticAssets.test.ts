/**
 * The dashboard server's answers for the build's static files (lib/web/http/staticAssets.ts) over real HTTP, on a
 * static directory made here (no `next build` needed): a plain HTTP server on port 0 hands it every request
 * and answers 599 where it declines (the dashboard server then passes the request to Next). Checked: bytes
 * and headers per type, gzip and brotli from 1 KiB, HEAD, 304, the requests it leaves to Next, and
 * that no traversal, symbolic link or file outside the directory is ever answered.
 * e2e/staticAssets.spec.ts compares its answers with Next's on the built app.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StaticAssets } from "../../lib/web/http/staticAssets";
import { rawRequest, type RawResponse } from "../rawHttp";

const DECLINED = 599;
let tmp = "";
let staticDir = "";
let assets: StaticAssets;
let server: http.Server;
let base = "";

/** A chunk large enough to compress; text that repeats, so gzip and brotli shrink it a lot. */
const CHUNK = Buffer.from(Array.from({ length: 400 }, (_, i) => `export const v${i} = "value number ${i}";\n`).join(""));
const SMALL = Buffer.from("self.__BUILD_MANIFEST = {};\n");
const FONT = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
const SECRET = Buffer.from('{ "name": "outside-the-static-dir", "secret": true }\n');

interface Got {
  status: number;
  headers: RawResponse["headers"];
  raw: Buffer;
  /** The body decoded by its content-encoding. */
  body: Buffer;
}

async function get(urlPath: string, headers: Record<string, string> = {}, method = "GET"): Promise<Got> {
  // The path goes out as given: no normalisation of "..", like a hostile client.
  const r = await rawRequest(base, urlPath, headers, method);
  return { status: r.status, headers: r.headers, raw: r.wire, body: r.body };
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "moe-static-"));
  // A project root: package.json and .next/server beside .next/static, as after `next build`.
  fs.writeFileSync(path.join(tmp, "package.json"), SECRET);
  fs.mkdirSync(path.join(tmp, ".next", "server"), { recursive: true });
  fs.writeFileSync(path.join(tmp, ".next", "server", "page.js"), SECRET);
  staticDir = path.join(tmp, ".next", "static");
  fs.mkdirSync(path.join(staticDir, "chunks"), { recursive: true });
  fs.mkdirSync(path.join(staticDir, "build-id"), { recursive: true });
  fs.mkdirSync(path.join(staticDir, "media"), { recursive: true });
  fs.writeFileSync(path.join(staticDir, "chunks", "main.js"), CHUNK);
  fs.writeFileSync(path.join(staticDir, "chunks", "app.css"), CHUNK);
  fs.writeFileSync(path.join(staticDir, "build-id", "_buildManifest.js"), SMALL);
  fs.writeFileSync(path.join(staticDir, "media", "font.woff2"), FONT);
  fs.writeFileSync(path.join(staticDir, "media", "notes.html"), SECRET);
  fs.symlinkSync(path.join(tmp, "package.json"), path.join(staticDir, "chunks", "link.js"));
  assets = await StaticAssets.open(staticDir);
  // A file added after start is not in the index: Next serves it.
  fs.writeFileSync(path.join(staticDir, "chunks", "later.js"), CHUNK);
  server = http.createServer((req, res) => {
    if (!assets.serve(req, res)) {
      res.writeHead(DECLINED);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("static assets", () => {
  it("indexes the regular files with a known type only", () => {
    expect(assets.size).toBe(4);
  });

  it("answers a chunk with Next's headers, identity or gzipped", async () => {
    const st = fs.statSync(path.join(staticDir, "chunks", "main.js"));
    const plain = await get("/_next/static/chunks/main.js");
    expect(plain.status).toBe(200);
    expect(plain.raw.equals(CHUNK)).toBe(true);
    expect(plain.headers["content-type"]).toBe("application/javascript; charset=UTF-8");
    expect(plain.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(plain.headers.etag).toBe(`W/"${st.size.toString(16)}-${st.mtime.getTime().toString(16)}"`);
    expect(plain.headers["last-modified"]).toBe(st.mtime.toUTCString());
    expect(plain.headers["accept-ranges"]).toBe("bytes");
    expect(plain.headers.vary).toBe("Accept-Encoding");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(Number(plain.headers["content-length"])).toBe(CHUNK.length);

    // Negotiated as every response of the dashboard server (lib/web/http/syncGzip.ts acceptsGzip).
    for (const accept of ["gzip", "gzip, deflate", "GZIP", "deflate, gzip", "gzip;q=0.5"]) {
      const gz = await get("/_next/static/chunks/main.js?dpl=abc", { "accept-encoding": accept });
      expect(gz.headers["content-encoding"], accept).toBe("gzip");
      expect(gz.body.equals(CHUNK), accept).toBe(true);
      expect(gz.raw.length, accept).toBeLessThan(CHUNK.length / 4);
      expect(Number(gz.headers["content-length"]), accept).toBe(gz.raw.length);
      expect(gz.headers.etag, accept).toBe(plain.headers.etag);
    }
    for (const accept of ["identity", "gzip;q=0.5, identity", "gzip;q=0"]) {
      const css = await get("/_next/static/chunks/app.css", { "accept-encoding": accept });
      expect(css.headers["content-type"], accept).toBe("text/css; charset=UTF-8");
      expect(css.headers["content-encoding"], accept).toBeUndefined();
      expect(css.raw.equals(CHUNK), accept).toBe(true);
    }
  });

  it("sends brotli to a client that lists br, smaller than gzip", async () => {
    const gz = await get("/_next/static/chunks/app.css", { "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    for (const accept of ["gzip, deflate, br, zstd", "br", "BR, gzip"]) {
      const br = await get("/_next/static/chunks/app.css", { "accept-encoding": accept });
      expect(br.headers["content-encoding"], accept).toBe("br");
      expect(br.body.equals(CHUNK), accept).toBe(true);
      expect(br.raw.length, accept).toBeLessThan(gz.raw.length);
      expect(Number(br.headers["content-length"]), accept).toBe(br.raw.length);
      expect(br.headers.vary, accept).toBe("Accept-Encoding");
      expect(br.headers.etag, accept).toBe(gz.headers.etag);
    }
  });

  it("leaves small and incompressible files uncompressed, as Next's compression does", async () => {
    const small = await get("/_next/static/build-id/_buildManifest.js", { "accept-encoding": "gzip, br" });
    expect(small.headers["content-encoding"]).toBeUndefined();
    expect(small.raw.equals(SMALL)).toBe(true);
    expect(small.headers.vary).toBe("Accept-Encoding");
    const font = await get("/_next/static/media/font.woff2", { "accept-encoding": "gzip, br" });
    expect(font.headers["content-encoding"]).toBeUndefined();
    expect(font.headers["content-type"]).toBe("font/woff2");
    expect(font.headers.vary).toBeUndefined();
    expect(font.raw.equals(FONT)).toBe(true);
  });

  it("answers HEAD with the identity body's headers and no body", async () => {
    const head = await get("/_next/static/chunks/main.js", { "accept-encoding": "gzip" }, "HEAD");
    expect(head.status).toBe(200);
    expect(head.raw.length).toBe(0);
    expect(Number(head.headers["content-length"])).toBe(CHUNK.length);
    expect(head.headers["content-encoding"]).toBeUndefined();
    expect(head.headers["content-type"]).toBe("application/javascript; charset=UTF-8");
  });

  it("answers 304 to a matching If-None-Match or a later If-Modified-Since", async () => {
    const { headers } = await get("/_next/static/chunks/main.js");
    const conditions: Array<Record<string, string>> = [
      { "if-none-match": headers.etag! },
      { "if-none-match": `W/"x", ${headers.etag}` },
      { "if-modified-since": headers["last-modified"]! },
    ];
    for (const h of conditions) {
      const r = await get("/_next/static/chunks/main.js", { ...h, "accept-encoding": "gzip" });
      expect(r.status, JSON.stringify(h)).toBe(304);
      expect(r.raw.length).toBe(0);
      expect(r.headers.etag).toBe(headers.etag);
      expect(r.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(r.headers["content-type"]).toBeUndefined();
    }
    expect((await get("/_next/static/chunks/main.js", { "if-none-match": 'W/"other"' })).status).toBe(200);
    expect((await get("/_next/static/chunks/main.js", { "if-none-match": headers.etag!, "cache-control": "no-cache" })).status).toBe(200);
  });

  it("leaves to Next what it does not serve itself", async () => {
    const declined: Array<[string, Record<string, string>?, string?]> = [
      ["/_next/static/chunks/main.js", {}, "POST"],
      ["/_next/static/chunks/main.js", {}, "OPTIONS"],
      ["/_next/static/chunks/main.js", { range: "bytes=0-9" }],
      ["/_next/static/chunks/main.js", { "if-match": "*" }],
      ["/_next/static/chunks/main.js", { "if-unmodified-since": "Mon, 07 Dec 2026 00:00:00 GMT" }],
      ["/_next/static/chunks/%6Dain.js"],
      ["/_next/static/chunks/missing.js"],
      ["/_next/static/chunks/later.js"],
      ["/_next/static/chunks/main.js/"],
      ["/_next/static/chunks"],
      ["/_next/static/media/notes.html"],
      ["/_next/image?url=/_next/static/chunks/main.js"],
      ["/_next/static/chunks/link.js"],
    ];
    for (const [p, headers, method] of declined) {
      expect((await get(p, headers, method)).status, `${method ?? "GET"} ${p} ${JSON.stringify(headers)}`).toBe(DECLINED);
    }
  });

  it("never answers a file outside the static directory", async () => {
    for (const p of [
      "/_next/static/../../package.json",
      "/_next/static/../server/page.js",
      "/_next/static/chunks/../../../package.json",
      "/_next/static/%2e%2e/%2e%2e/package.json",
      "/_next/static/%2E%2E/server/page.js",
      "/_next/static/..%2f..%2fpackage.json",
      "/_next/static/..\\..\\package.json",
      "/_next/static//" + path.join(tmp, "package.json").slice(1),
      "/_next/static/chunks/main.js%00",
    ]) {
      const r = await get(p, { "accept-encoding": "gzip" });
      expect(r.status, p).toBe(DECLINED);
      expect(r.body.includes("outside-the-static-dir"), p).toBe(false);
    }
  });

  it("serves nothing, and does not fail, without a build", async () => {
    const none = await StaticAssets.open(path.join(tmp, "no-such-dir"));
    expect(none.size).toBe(0);
  });
});
