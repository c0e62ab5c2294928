/**
 * TLS for the collector, with a throw-away CA made by the openssl CLI in a temporary folder: a server
 * certificate signed by the CA, clients that trust it or not, and client certificates when the
 * collector requires them. Real collector on port 0, real database, the TypeScript client.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServerTls } from "../../collector/auth";
import { TelemetryClient, type ClientTls } from "../../lib/client/TelemetryClient";
import { createIngestToken } from "../../lib/store/ingestTokens";
import { report, smallRanks, smallRun, startCollector, tempDatabaseUrl } from "./harness";

const OPENSSL = "/usr/bin/openssl";

let dir: string;
const file = (name: string) => path.join(dir, name);
function openssl(...args: string[]): void {
  execFileSync(OPENSSL, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** makeCa creates `<name>.key` and a self-signed `<name>.pem`. */
function makeCa(name: string): void {
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`);
}

/** makeLeaf creates `<name>.key` and `<name>.pem` signed by CA `ca`, with the given X.509v3 extensions. */
function makeLeaf(name: string, ca: string, cn: string, ext: string): void {
  openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
  fs.writeFileSync(file(`${name}.ext`), ext);
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
}

type Outcome = { code: grpc.status; details: string };
async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return { code: grpc.status.OK, details: "" };
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { code: e.code, details: e.details ?? String(err) };
  }
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moe-tls-"));
  makeCa("ca");
  makeCa("other-ca");
  makeLeaf("server", "ca", "collector.test", "subjectAltName=DNS:collector.test,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  makeLeaf("client", "ca", "rank-0", "extendedKeyUsage=clientAuth\n");
  makeLeaf("stranger", "other-ca", "stranger", "extendedKeyUsage=clientAuth\n");
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** sendOneRun registers a run and writes one report through a client with `tls`; resolves to the outcome. */
async function sendOneRun(address: string, runKey: string, tls: ClientTls | undefined, token = ""): Promise<Outcome> {
  // Short deadlines: a refused handshake shows up as UNAVAILABLE once the deadline passes.
  const client = new TelemetryClient(address, { token, deadlineMs: 3_000, ...(tls ? { tls } : {}) });
  try {
    return await outcome(
      (async () => {
        await client.registerRun(smallRun(runKey));
        await client.write(runKey, smallRanks()[0], 1, [report(0, 1, 2)], []);
      })(),
    );
  } finally {
    client.close();
  }
}

describe("collector TLS with a server certificate", () => {
  let c: Awaited<ReturnType<typeof startCollector>>;
  let token = "";

  beforeAll(async () => {
    const tls = loadServerTls({ cert: file("server.pem"), key: file("server.key") });
    c = await startCollector(tempDatabaseUrl(), { tls, auth: { mode: "on", cacheTtlMs: 0 } });
    token = (await createIngestToken(c.db, { projectName: "tls", name: "t", createdBy: "test" })).token;
  });
  afterAll(async () => {
    await c.stop();
  });

  it("stores data from a client that trusts the CA (CA as a file path and as PEM text), token included", async () => {
    expect(await sendOneRun(c.address, "tls-ok", { ca: file("ca.pem") }, token)).toEqual({ code: grpc.status.OK, details: "" });
    expect(await sendOneRun(c.address, "tls-ok-pem", { ca: fs.readFileSync(file("ca.pem"), "utf8"), serverNameOverride: "collector.test" }, token)).toMatchObject({ code: grpc.status.OK });
    const run = await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: "tls-ok" } });
    expect(await c.db.prisma.layerReport.count({ where: { runId: run.id } })).toBe(1);
  });

  it("refuses a client that does not trust the CA, and a plaintext client", async () => {
    const untrusting = await sendOneRun(c.address, "tls-untrusted", {}, token);
    expect(grpc.status[untrusting.code]).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED)$/);
    const plaintext = await sendOneRun(c.address, "tls-plaintext", undefined, token);
    expect(grpc.status[plaintext.code]).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED)$/);
    expect(await c.db.prisma.run.count({ where: { runKey: { in: ["tls-untrusted", "tls-plaintext"] } } })).toBe(0);
  });

  it("still checks the token over TLS", async () => {
    expect(grpc.status[(await sendOneRun(c.address, "tls-no-token", { ca: file("ca.pem") })).code]).toBe("UNAUTHENTICATED");
  });
});

describe("collector TLS requiring client certificates", () => {
  let c: Awaited<ReturnType<typeof startCollector>>;

  beforeAll(async () => {
    const tls = loadServerTls({ cert: file("server.pem"), key: file("server.key"), clientCa: file("ca.pem") });
    c = await startCollector(tempDatabaseUrl(), { tls, auth: { mode: "off" } });
  });
  afterAll(async () => {
    await c.stop();
  });

  it("refuses a client without a certificate or with one of another CA, and stores data from a CA-signed one", async () => {
    const without = await sendOneRun(c.address, "mtls-none", { ca: file("ca.pem") });
    expect(grpc.status[without.code]).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED)$/);
    const stranger = await sendOneRun(c.address, "mtls-stranger", { ca: file("ca.pem"), cert: file("stranger.pem"), key: file("stranger.key") });
    expect(grpc.status[stranger.code]).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED)$/);
    expect(await sendOneRun(c.address, "mtls-ok", { ca: file("ca.pem"), cert: file("client.pem"), key: file("client.key") })).toMatchObject({ code: grpc.status.OK });
    const runs = await c.db.prisma.run.findMany({ select: { runKey: true } });
    expect(runs.map((r) => r.runKey)).toEqual(["mtls-ok"]);
  });
});

describe("TLS configuration errors", () => {
  it("names the setting and the file for unreadable, non-PEM and mismatched files", () => {
    expect(() => loadServerTls({ cert: file("missing.pem"), key: file("server.key") })).toThrow(/COLLECTOR_TLS_CERT: cannot read .*missing\.pem \(ENOENT\)/);
    expect(() => loadServerTls({ cert: file("server.ext"), key: file("server.key") })).toThrow(/COLLECTOR_TLS_CERT: .*server\.ext is not a PEM file/);
    expect(() => loadServerTls({ cert: file("server.pem"), key: file("client.key") })).toThrow(/COLLECTOR_TLS_KEY is not the private key of the certificate in COLLECTOR_TLS_CERT/);
    expect(() => loadServerTls({ cert: file("server.pem") })).toThrow(/needs both COLLECTOR_TLS_CERT .* and COLLECTOR_TLS_KEY/);
    expect(loadServerTls({})).toBeUndefined();
  });

  it("refuses a client certificate without its key before connecting", () => {
    expect(() => new TelemetryClient("127.0.0.1:1", { tls: { ca: file("ca.pem"), cert: file("client.pem") } })).toThrow(/give both cert and key/);
  });
});
