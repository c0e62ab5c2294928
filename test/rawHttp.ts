/**
 * One HTTP exchange as the server sent it, for tests that check headers and compressed bytes (fetch would
 * decompress and normalise). Shared by unit, integration and e2e tests.
 */
import http from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";

/** RawResponse: status, headers, the bytes on the wire and the body decoded by its Content-Encoding. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  wire: Buffer;
  /** Decoded when read, so a test of a response whose bytes are not what its encoding says can still look at the rest. */
  readonly body: Buffer;
}

/**
 * rawRequest sends `method` (GET by default) to `origin` + `path`. The path goes out exactly as given: no
 * normalisation of "..", percent escapes or anything else, as a hostile client would send it.
 */
export function rawRequest(origin: string, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${origin}/`, { method, headers, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const wire = Buffer.concat(chunks);
        const enc = res.headers["content-encoding"];
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          wire,
          get body() {
            return enc === "gzip" ? gunzipSync(wire) : enc === "br" ? brotliDecompressSync(wire) : wire;
          },
        });
      });
    });
    req.on("error", reject);
    req.end();
  });
}
