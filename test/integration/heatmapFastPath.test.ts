/**
 * The dashboard server's fast path for GET /api/runs/{runId}/heatmap/experts (lib/web/http/dashboardServer.ts) on a
 * real database, without Next: a plain HTTP server on port 0 hands it every request and answers 599 where it
 * declines (the dashboard server then passes the request to Next). Checked: the access rules with login off
 * and on (NUL refusal, 401 without a valid session, a viewer reads), 400 naming the parameter, 404, ETag and
 * 304, gzip made once per answer, and the requests it leaves to Next. e2e/heatmapFastPath.spec.ts compares
 * its answers with the Next route's, byte for byte, on the built app.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveExpertHeatmap } from "../../lib/web/http/dashboardServer";
import { packCounts } from "../../lib/store/packCounts";
import { createSession } from "../../lib/web/auth/sessions";
import { createUser, setDisabled } from "../../lib/web/auth/users";
import type { Db } from "../../lib/store/db";
import { expertHeatmapAnswer } from "../../lib/web/http/expertHeatmapHttp";
import { getExpertHeatmap } from "../../lib/web/data/queries";
import { registerRun, type RunRecord } from "../../lib/store/runsRepo";
import { getDb } from "../../lib/web/data/webDb";
import { smallRun, tempDatabaseUrl, TEST_DIALECT } from "./harness";
import { rawRequest, type RawResponse } from "../rawHttp";

const STEPS = 90;
/** smallRun's layout: 4 experts, MoE layers 2-4. */
const E = 4;
const DECLINED = 599;
let db: Db;
let run: RunRecord;
let server: http.Server;
let base = "";
const savedAuth = process.env.DASHBOARD_AUTH;

interface Got {
  status: number;
  headers: RawResponse["headers"];
  /** The bytes as sent (compressed when content-encoding says so). */
  raw: Buffer;
  /** The body decoded. */
  text: string;
}

async function get(path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Got> {
  const r = await rawRequest(base, path, headers, method);
  return { status: r.status, headers: r.headers, raw: r.wire, text: r.body.toString() };
}

const path = (q: string, runId = run.id) => `/api/runs/${runId}/heatmap/experts?${q}`;

beforeAll(async () => {
  process.env.DATABASE_URL = tempDatabaseUrl();
  db = await getDb();
  ({ run } = await registerRun(db, smallRun("fast-path")));
  const data = [];
  for (let step = 1; step <= STEPS; step++) {
    for (const layer of run.moeLayers) {
      const load = Array.from({ length: E }, (_, e) => 100 + ((step * 7 + layer * 13 + e * 31) % 97));
      data.push({
        runId: run.id, layer, step, ranksReported: 2, ranksExpected: 2, tokens: BigInt(1000), load: new Uint8Array(packCounts(load)),
        maxVio: 0.1, cv: 0.1, entropy: 0.9, deadExperts: 0, loadBalancingLoss: 1, zLoss: 10,
      });
    }
  }
  await db.prisma.layerAggregate.createMany({ data });
  server = http.createServer((req, res) => {
    serveExpertHeatmap(req, res).then(
      (served) => {
        if (!served) {
          res.writeHead(DECLINED);
          res.end();
        }
      },
      (err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await db.close();
  if (savedAuth === undefined) delete process.env.DASHBOARD_AUTH;
  else process.env.DASHBOARD_AUTH = savedAuth;
});

describe("login off", () => {
  beforeAll(() => {
    process.env.DASHBOARD_AUTH = "off";
  });

  it("answers the route's body and headers, gzipped when the client takes gzip", async () => {
    const layer = run.moeLayers[1];
    const plain = await get(path(`layer=${layer}&maxColumns=30`));
    expect(plain.status).toBe(200);
    expect(JSON.parse(plain.text)).toEqual(JSON.parse(JSON.stringify(await getExpertHeatmap(run.id, layer, { maxColumns: 30 }))));
    expect(plain.headers["content-type"]).toBe("application/json");
    expect(plain.headers["cache-control"]).toBe("no-cache");
    expect(plain.headers.etag).toMatch(/^W\/"[\w-]+"$/);
    expect(plain.headers.vary).toMatch(/Accept-Encoding$/);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(Number(plain.headers["content-length"])).toBe(plain.raw.length);

    // The negotiation of lib/web/http/syncGzip.ts (gzip or identity, q-values honoured), as for every page.
    for (const accept of ["gzip", "gzip, deflate", "gzip, deflate, br, zstd", "br, gzip", "GZIP", "deflate, gzip", "*", "gzip;q=0.5"]) {
      const gz = await get(path(`layer=${layer}&maxColumns=30`), { "accept-encoding": accept });
      expect(gz.headers["content-encoding"], accept).toBe("gzip");
      expect(gz.text, accept).toBe(plain.text);
      expect(gz.headers.etag, accept).toBe(plain.headers.etag);
      expect(gz.raw.length, accept).toBeLessThan(plain.raw.length);
    }
    for (const accept of ["identity", "br", "br, zstd", "identity, gzip", "deflate", "gzip;q=0.5, identity", "gzip;q=0"]) {
      const id = await get(path(`layer=${layer}&maxColumns=30`), { "accept-encoding": accept });
      expect(id.headers["content-encoding"], accept).toBeUndefined();
      expect(id.raw.equals(plain.raw), accept).toBe(true);
    }
  });

  it.skipIf(TEST_DIALECT !== "sqlite")("serializes and gzips an unchanged answer once", async () => {
    const url = `http://localhost${path(`layer=${run.moeLayers[0]}&maxColumns=17`)}`;
    const first = await expertHeatmapAnswer(run.id, url);
    const again = await expertHeatmapAnswer(run.id, url);
    expect(again).toBe(first);
    expect(again.gzipped()).toBe(first.gzipped());
  });

  it("answers 304 to a matching If-None-Match, a new body once the data changes", async () => {
    const layer = run.moeLayers[0];
    const first = await get(path(`layer=${layer}`), { "accept-encoding": "gzip" });
    const etag = first.headers.etag!;
    for (const inm of [etag, etag.slice(2), `W/"other", ${etag}`, "*"]) {
      const again = await get(path(`layer=${layer}`), { "if-none-match": inm, "accept-encoding": "gzip" });
      expect(again.status, inm).toBe(304);
      expect(again.raw.length, inm).toBe(0);
      expect(again.headers.etag, inm).toBe(etag);
      expect(again.headers["cache-control"], inm).toBe("no-cache");
      expect(again.headers["content-encoding"], inm).toBeUndefined();
    }
    expect((await get(path(`layer=${layer}`), { "if-none-match": 'W/"other"' })).status).toBe(200);
    await db.prisma.layerAggregate.update({
      where: { runId_layer_step: { runId: run.id, layer, step: 5 } },
      data: { load: new Uint8Array(packCounts(Array.from({ length: E }, (_, e) => (e === 2 ? 9999 : 1)))) },
    });
    const changed = await get(path(`layer=${layer}`), { "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(Math.max(...(JSON.parse(changed.text) as { columns: Array<{ load: number[] }> }).columns.map((c) => c.load[2]))).toBe(9999);
  });

  it("names a bad parameter (400) and an unknown run or layer (404), as JSON that is never stored", async () => {
    for (const [q, field] of [["layer=x", "layer"], ["", "layer"], ["layer=1&maxColumns=0", "maxColumns"], ["layer=1&maxColumns=5001", "maxColumns"], ["layer=1&from=-1", "from"], ["layer=1&to=1.5", "to"]]) {
      for (const accept of ["", "gzip"]) {
        const r = await get(path(q), accept ? { "accept-encoding": accept } : {});
        expect(r.status, q).toBe(400);
        const body = JSON.parse(r.text) as { error: string; field: string };
        expect(body.field, q).toBe(field);
        expect(body.error, q).toMatch(new RegExp(`^query parameter ${field}: `));
        expect(r.headers["cache-control"], q).toBe("no-store");
        expect(r.headers["content-encoding"], q).toBe(accept || undefined);
      }
    }
    const layer = await get(path("layer=99"));
    expect(layer.status).toBe(404);
    expect(JSON.parse(layer.text)).toEqual({ error: `run ${run.id} does not exist or layer 99 is not one of its MoE layers`, field: "layer" });
    const unknown = "00000000-0000-4000-8000-000000000000";
    const missing = await get(path("layer=1", unknown));
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text).error).toBe(`run ${unknown} does not exist or layer 1 is not one of its MoE layers`);
  });

  it("refuses a URL with a NUL character before reading anything", async () => {
    const r = await get(path("layer=1%00"));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toEqual({ error: "malformed URL: it contains a NUL character (%00)" });
    expect(r.headers["cache-control"]).toBe("no-store");
  });

  it("leaves to Next what it does not serve itself", async () => {
    const escaped = run.id.replace("-", "%2D");
    const declined: Array<[string, Record<string, string>, string?]> = [
      [path("layer=1"), {}, "HEAD"],
      [path("layer=1"), {}, "POST"],
      [path("layer=1", escaped), {}],
      [`/api/runs/${run.id}/heatmap/experts/?layer=1`, {}],
      [`/api/runs/${run.id}/heatmap/layers?layer=1`, {}],
    ];
    for (const [p, headers, method] of declined) {
      expect((await get(p, headers, method)).status, `${method ?? "GET"} ${p} ${JSON.stringify(headers)}`).toBe(DECLINED);
    }
  });
});

describe("login on", () => {
  let viewerCookie = "";
  let adminCookie = "";

  beforeAll(async () => {
    process.env.DASHBOARD_AUTH = "on";
    const viewer = await createUser(db, { username: "fast-viewer", password: "a-long-password-1", role: "viewer" });
    const admin = await createUser(db, { username: "fast-admin", password: "a-long-password-2", role: "admin" });
    viewerCookie = `moe_session=${(await createSession(db, viewer.id)).secret}`;
    adminCookie = `moe_session=${(await createSession(db, admin.id)).secret}`;
  });

  it("answers 401 JSON without a valid session, whatever the query", async () => {
    for (const [q, headers] of [
      ["layer=1", {}],
      ["layer=1", { cookie: "moe_session=not-a-session" }],
      ["layer=x", {}],
      ["layer=99", { "accept-encoding": "gzip" }],
    ] as Array<[string, Record<string, string>]>) {
      const r = await get(path(q), headers);
      expect(r.status, q).toBe(401);
      expect(JSON.parse(r.text), q).toEqual({ error: "sign in first: this needs a dashboard session (POST /api/auth/login)" });
      expect(r.headers["cache-control"], q).toBe("no-store");
      expect(r.headers.vary, q).toBe("Accept-Encoding");
    }
  });

  it("serves a viewer and an admin; a disabled user's session no longer reads", async () => {
    const open = await getExpertHeatmap(run.id, run.moeLayers[0], {});
    for (const cookie of [viewerCookie, adminCookie]) {
      const r = await get(path(`layer=${run.moeLayers[0]}`), { cookie });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual(JSON.parse(JSON.stringify(open)));
    }
    await setDisabled(db, "fast-viewer", true);
    expect((await get(path(`layer=${run.moeLayers[0]}`), { cookie: viewerCookie })).status).toBe(401);
    await setDisabled(db, "fast-viewer", false);
  });
});
