/**
 * `moe-telemetry serve` answers GET /api/runs/{runId}/heatmap/experts in its own server, before Next
 * (lib/web/http/dashboardServer.ts). The same requests go to that fast path and to the Next route on the same server
 * (through an escaped run id, which the fast path leaves to Next and Next decodes to the same run) and must
 * come back alike: status, the headers a client or cache acts on, and the bytes on the wire, gzipped ones
 * included; signed out, both answer the proxy's 401.
 */
import fs from "node:fs";
import { expect, test, uniqueRunKey } from "./fixtures";
import { E2E_USERS } from "./global-setup";
import { rawRequest, type RawResponse } from "../test/rawHttp";

/** One answer as sent: `body` is the bytes on the wire (gzipped ones compared as they are). */
interface Raw {
  status: number;
  headers: RawResponse["headers"];
  body: Buffer;
}

async function raw(url: string, headers: Record<string, string>): Promise<Raw> {
  const u = new URL(url);
  const r = await rawRequest(u.origin, u.pathname + u.search, headers);
  return { status: r.status, headers: r.headers, body: r.wire };
}

/** What a client or a cache acts on (framing headers such as Content-Length / chunked may differ). */
const COMPARED = ["content-type", "cache-control", "etag", "vary", "content-encoding", "location"];

function seen(r: Raw): Record<string, unknown> {
  return { status: r.status, ...Object.fromEntries(COMPARED.map((h) => [h, r.headers[h]])) };
}

function sessionCookie(storageState: string): string {
  const state = JSON.parse(fs.readFileSync(storageState, "utf8")) as { cookies: Array<{ name: string; value: string }> };
  const c = state.cookies.find((x) => x.name === "moe_session");
  if (!c) throw new Error(`no moe_session cookie in ${storageState}`);
  return `moe_session=${c.value}`;
}

test("the heatmap fast path answers exactly what the Next route answers", async ({ request, simulate, baseURL }) => {
  const runKey = uniqueRunKey("fast-path");
  const sim = simulate({ runKey, ranks: 8, steps: 70, stepIntervalMs: 0, extra: ["--ep", "4", "--pp", "2", "--layers", "4"] });
  await sim.exited;
  const runs = (await (await request.get("/api/runs")).json()) as Array<{ id: string; runKey: string }>;
  const id = runs.find((r) => r.runKey === runKey)!.id;
  // The fast path serves plain run ids only; Next decodes %2D to "-" and serves the same run.
  const viaNext = id.replace("-", "%2D");
  expect(viaNext).not.toBe(id);

  const admin = sessionCookie(test.info().project.use.storageState as string);
  const login = await request.post("/api/auth/login", { data: E2E_USERS.viewer, headers: { cookie: "" } });
  expect(login.ok()).toBe(true);
  const viewer = (login.headers()["set-cookie"] ?? "").split(";")[0];
  expect(viewer).toMatch(/^moe_session=./);

  const compare = async (query: string, headers: Record<string, string>, runId = id, nextRunId = viaNext): Promise<Raw> => {
    const fast = await raw(`${baseURL}/api/runs/${runId}/heatmap/experts?${query}`, headers);
    const next = await raw(`${baseURL}/api/runs/${nextRunId}/heatmap/experts?${query}`, headers);
    const what = `${query} ${JSON.stringify(headers)}`;
    expect(seen(fast), what).toEqual(seen(next));
    expect(fast.body.equals(next.body), `${what}: bodies differ:\n${fast.body.toString("latin1").slice(0, 200)}\n${next.body.toString("latin1").slice(0, 200)}`).toBe(true);
    if (next.body.length > 0) {
      // Proof that the two went different ways: Next streams its bodies, the fast path sends a length.
      expect(next.headers["transfer-encoding"], what).toBe("chunked");
      expect(Number(fast.headers["content-length"]), what).toBe(fast.body.length);
    }
    return fast;
  };

  for (const acceptEncoding of ["", "gzip", "gzip, deflate", "gzip, deflate, br, zstd", "identity", "br", "identity, gzip"]) {
    const headers = { cookie: admin, ...(acceptEncoding ? { "accept-encoding": acceptEncoding } : {}) };
    for (const query of ["layer=2&maxColumns=20", "layer=2&maxColumns=1000", "layer=3", "layer=2&from=5&to=5", "layer=2&from=80"]) {
      await compare(query, headers);
    }
    for (const query of ["layer=x", "", "layer=2&maxColumns=0", "layer=2&from=-3", "layer=99", "layer=1%00"]) {
      const r = await compare(query, headers);
      expect(r.status, query).toBeGreaterThanOrEqual(400);
    }
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect((await compare("layer=2", headers, unknown, unknown.replace("-", "%2D"))).status).toBe(404);
  }

  const first = await compare("layer=2&maxColumns=20", { cookie: admin, "accept-encoding": "gzip" });
  expect(first.status).toBe(200);
  expect(first.headers["content-encoding"]).toBe("gzip");
  const etag = first.headers.etag!;
  for (const ifNoneMatch of [etag, `W/"other", ${etag}`, "*"]) {
    expect((await compare("layer=2&maxColumns=20", { cookie: admin, "accept-encoding": "gzip", "if-none-match": ifNoneMatch })).status).toBe(304);
  }
  expect((await compare("layer=2&maxColumns=20", { cookie: viewer })).status).toBe(200);
  for (const cookie of ["", "moe_session=not-a-session"]) {
    const denied = await compare("layer=2&maxColumns=20", cookie ? { cookie, "accept-encoding": "gzip" } : {});
    expect(denied.status).toBe(401);
  }
});
