import { describe, expect, it } from "vitest";
import { acceptsBrotli } from "./syncGzip";
import { fresh, staticAssetKey, staticContentType } from "./staticAssets";

describe("staticAssetKey", () => {
  const cases: Array<[string, string, string | undefined]> = [
    ["a chunk", "/_next/static/chunks/0lx_05xdhboly.js", "chunks/0lx_05xdhboly.js"],
    ["a query string is ignored, as Next does", "/_next/static/chunks/a.css?dpl=1", "chunks/a.css"],
    ["the build id folder", "/_next/static/O0dHBPZurfCXCFYjTNdqB/_buildManifest.js", "O0dHBPZurfCXCFYjTNdqB/_buildManifest.js"],
    ["outside the prefix", "/_next/image?url=x", undefined],
    ["the prefix without the slash", "/_next/staticx/a.js", undefined],
    ["the prefix itself", "/_next/static/", undefined],
    ["a parent segment", "/_next/static/../../package.json", undefined],
    ["a parent segment further in", "/_next/static/chunks/../../../package.json", undefined],
    ["a trailing parent segment", "/_next/static/chunks/..", undefined],
    ["a dot segment", "/_next/static/./chunks/a.js", undefined],
    ["an escaped parent segment", "/_next/static/%2e%2e/%2e%2e/package.json", undefined],
    ["an escaped slash", "/_next/static/..%2f..%2fpackage.json", undefined],
    ["any percent escape", "/_next/static/chunks/%61.js", undefined],
    ["a backslash", "/_next/static/..\\..\\package.json", undefined],
    ["a NUL", "/_next/static/chunks/a.js\0.png", undefined],
    ["an empty segment", "/_next/static//etc/passwd", undefined],
    ["a trailing slash", "/_next/static/chunks/", undefined],
  ];
  it.each(cases)("%s", (_name, url, key) => {
    expect(staticAssetKey(url)).toBe(key);
  });
});

describe("staticContentType", () => {
  const cases: Array<[string, string | undefined, boolean | undefined]> = [
    ["a.js", "application/javascript; charset=UTF-8", true],
    ["a.css", "text/css; charset=UTF-8", true],
    ["a.js.map", "application/json; charset=UTF-8", true],
    ["font.woff2", "font/woff2", false],
    ["icon.ICO", "image/x-icon", true],
    ["media/logo.svg", "image/svg+xml", true],
    ["a.png", "image/png", false],
    ["a.html", undefined, undefined],
    ["README", undefined, undefined],
  ];
  it.each(cases)("%s", (name, type, compressible) => {
    const t = staticContentType(name);
    expect(t?.type).toBe(type);
    expect(t?.compressible).toBe(compressible);
  });
});

describe("fresh", () => {
  const etag = 'W/"f9d5-1a24c735e6e"';
  const lastModified = "Sun, 06 Dec 2026 17:42:38 GMT";
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ["no conditional header", {}, false],
    ["the ETag", { "if-none-match": etag }, true],
    ["the ETag, strong form", { "if-none-match": '"f9d5-1a24c735e6e"' }, true],
    ["the ETag in a list", { "if-none-match": 'W/"x", W/"f9d5-1a24c735e6e"' }, true],
    ["a wildcard", { "if-none-match": "*" }, true],
    ["another ETag", { "if-none-match": 'W/"f9d5-1a24c735e6f"' }, false],
    ["another ETag wins over a later If-Modified-Since", { "if-none-match": 'W/"x"', "if-modified-since": "Mon, 07 Dec 2026 00:00:00 GMT" }, false],
    ["If-Modified-Since at the modification", { "if-modified-since": lastModified }, true],
    ["If-Modified-Since after it", { "if-modified-since": "Mon, 07 Dec 2026 00:00:00 GMT" }, true],
    ["If-Modified-Since before it", { "if-modified-since": "Sun, 06 Dec 2026 17:42:37 GMT" }, false],
    ["If-Modified-Since unparsable", { "if-modified-since": "yesterday" }, false],
    ["Cache-Control: no-cache (a hard reload)", { "if-none-match": etag, "cache-control": "no-cache" }, false],
    ["Cache-Control: max-age=0 still revalidates", { "if-none-match": etag, "cache-control": "max-age=0" }, true],
  ];
  it.each(cases)("%s", (_name, headers, expected) => {
    expect(fresh(headers, etag, lastModified)).toBe(expected);
  });
});

describe("acceptsBrotli", () => {
  const cases: Array<[string | undefined, boolean]> = [
    [undefined, false],
    ["gzip", false],
    ["gzip, deflate, br, zstd", true],
    ["br", true],
    ["BR, GZIP", true],
    ["brotli", false],
    ["gzip;q=0.5, br", true],
    ["br;q=0", false],
    ["br;q=0.1", true],
    ["*", false],
  ];
  it.each(cases)("%s", (header, br) => {
    expect(acceptsBrotli(header)).toBe(br);
  });
});
