/**
 * `moe-telemetry serve` answers the build's `/_next/static/...` files from memory, before Next
 * (lib/web/http/staticAssets.ts). Every static file the app's HTML links to is fetched from that fast path and from Next
 * on the same server (through a percent-escaped name, which the fast path leaves to Next and Next decodes to
 * the same file), and must come back alike: status, the headers a client or cache acts on, and the same bytes
 * once decoded. Where the client lists br the fast path may send brotli and Next gzip. Traversal attempts get
 * nothing from outside the static directory.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "./fixtures";
import { REPO_ROOT } from "./processes";
import { rawRequest, type RawResponse } from "../test/rawHttp";

/** What a client or a cache acts on; content-encoding is compared apart (br may replace gzip). */
const COMPARED = ["content-type", "cache-control", "etag", "last-modified", "vary", "accept-ranges", "location"];

function seen(r: RawResponse): Record<string, unknown> {
  return { status: r.status, ...Object.fromEntries(COMPARED.map((h) => [h, r.headers[h]])) };
}

/** The same URL with its file name's first character percent-escaped: only Next serves it. */
function viaNext(url: string): string {
  const slash = url.lastIndexOf("/");
  const c = url.charCodeAt(slash + 1);
  return `${url.slice(0, slash + 1)}%${c.toString(16).toUpperCase().padStart(2, "0")}${url.slice(slash + 2)}`;
}

test("static files: the fast path answers what Next answers", async ({ request, baseURL }) => {
  const html = await (await request.get("/")).text();
  const urls = [...new Set(html.match(/\/_next\/static\/[\w./-]+\.(?:js|css)/g) ?? [])];
  expect(urls.length).toBeGreaterThan(3);
  expect(urls.some((u) => u.endsWith(".css"))).toBe(true);

  for (const url of urls) {
    const onDisk = fs.readFileSync(path.join(REPO_ROOT, ".next", "static", url.slice("/_next/static/".length)));
    for (const acceptEncoding of ["", "gzip", "gzip, deflate", "identity", "gzip, deflate, br, zstd", "br"]) {
      const headers: Record<string, string> = acceptEncoding ? { "accept-encoding": acceptEncoding } : {};
      const what = `${url} ${JSON.stringify(headers)}`;
      const fast = await rawRequest(baseURL!, url, headers);
      const next = await rawRequest(baseURL!, viaNext(url), headers);
      expect(seen(fast), what).toEqual(seen(next));
      expect(fast.status, what).toBe(200);
      expect(fast.body.equals(onDisk), `${what}: fast path body`).toBe(true);
      expect(next.body.equals(onDisk), `${what}: Next body`).toBe(true);
      // Proof the two went different ways: the fast path always sends a length, Next streams gzip chunked.
      expect(Number(fast.headers["content-length"]), what).toBe(fast.wire.length);
      if (next.headers["content-encoding"] === "gzip") expect(next.headers["transfer-encoding"], what).toBe("chunked");
      if (fast.headers["content-encoding"] === "br") {
        expect(next.headers["content-encoding"], what).toBe(acceptEncoding.includes("gzip") && onDisk.length >= 1024 ? "gzip" : undefined);
        expect(fast.wire.length, what).toBeLessThan(onDisk.length);
      } else {
        expect(fast.headers["content-encoding"], what).toBe(next.headers["content-encoding"]);
      }
    }
    const head = [await rawRequest(baseURL!, url, { "accept-encoding": "gzip" }, "HEAD"), await rawRequest(baseURL!, viaNext(url), { "accept-encoding": "gzip" }, "HEAD")];
    expect(seen(head[0]), `HEAD ${url}`).toEqual(seen(head[1]));
    expect(head[0].headers["content-length"], `HEAD ${url}`).toBe(head[1].headers["content-length"]);
    expect(head[0].headers["content-length"], `HEAD ${url}`).toBe(String(onDisk.length));

    const etag = head[0].headers.etag!;
    for (const cond of [{ "if-none-match": etag }, { "if-modified-since": head[0].headers["last-modified"]! }] as Array<Record<string, string>>) {
      const [fast, next] = [await rawRequest(baseURL!, url, cond), await rawRequest(baseURL!, viaNext(url), cond)];
      expect(fast.status, `${url} ${JSON.stringify(cond)}`).toBe(304);
      expect(seen(fast), `${url} ${JSON.stringify(cond)}`).toEqual(seen(next));
    }
  }

  // A browser (it lists br) gets brotli for the larger files.
  const big = urls.find((u) => fs.statSync(path.join(REPO_ROOT, ".next", "static", u.slice("/_next/static/".length))).size > 10_000)!;
  expect((await rawRequest(baseURL!, big, { "accept-encoding": "gzip, deflate, br, zstd" })).headers["content-encoding"]).toBe("br");
});

test("static files: no traversal reaches outside .next/static", async ({ baseURL }) => {
  const pkg = fs.readFileSync(path.join(REPO_ROOT, "package.json"));
  for (const p of [
    "/_next/static/../../package.json",
    "/_next/static/%2e%2e/%2e%2e/package.json",
    "/_next/static/%2E%2E/%2E%2E/package.json",
    "/_next/static/..%2f..%2fpackage.json",
    "/_next/static/chunks/../../../package.json",
    "/_next/static/../BUILD_ID",
  ]) {
    for (const headers of [{}, { "accept-encoding": "gzip" }] as Array<Record<string, string>>) {
      const r = await rawRequest(baseURL!, p, headers);
      expect(r.status, p).not.toBe(200);
      expect(r.body.includes(pkg.subarray(0, 60)), p).toBe(false);
      expect(r.body.includes('"name": "moe-telemetry"'), p).toBe(false);
    }
  }
});
