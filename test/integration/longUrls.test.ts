/**
 * Very long URLs at the dashboard server's edge (issue 18.8): 25-100 KB request targets are answered
 * 431 (past Node's 16 KB header limit) or 414 (past MAX_URL_BYTES), with the status readable by the client,
 * never a connection reset. The server here installs exactly the edge handlers of lib/web/http/dashboardServer.ts.
 */
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerClientError, MAX_URL_BYTES, refuseLongUrl } from "../../lib/web/http/dashboardServer";

let server: http.Server;
let port = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (refuseLongUrl(req, res)) return;
    res.end("ok");
  });
  server.on("clientError", answerClientError);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** get sends a GET with a path of `bytes` bytes in 4 KB pieces, as a slow client would, and returns what came back. */
function get(bytes: number): Promise<{ text: string; error: string | null }> {
  return new Promise((resolve) => {
    let text = "";
    const s = net.connect(port, "127.0.0.1", async () => {
      const request = `GET /runs?x=${"a".repeat(bytes)} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`;
      for (let i = 0; i < request.length && !s.destroyed; i += 4096) {
        s.write(request.slice(i, i + 4096));
        await new Promise((r) => setTimeout(r, 2));
      }
    });
    s.on("data", (d: Buffer) => (text += d.toString()));
    s.on("error", (e: NodeJS.ErrnoException) => resolve({ text, error: e.code ?? e.message }));
    s.on("close", () => resolve({ text, error: null }));
  });
}

describe("long URLs", () => {
  it.each([
    ["10 KB", 10 * 1024, /^HTTP\/1\.1 414 /],
    ["25 KB", 25 * 1024, /^HTTP\/1\.1 431 /],
    ["100 KB", 100 * 1024, /^HTTP\/1\.1 431 /],
  ])("answers a %s URL with a status the client reads, not a reset", async (_name, bytes, status) => {
    const r = await get(bytes);
    expect(r.text).toMatch(status);
  });

  it("still serves URLs up to MAX_URL_BYTES", async () => {
    const r = await get(MAX_URL_BYTES - 100);
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
  });
});
