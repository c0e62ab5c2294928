/**
 * Ingest authentication end to end: a real collector (auth on, verification cache off so a revocation
 * counts at once instead of after the 2 s window), a real database, the TypeScript client. Every RPC is
 * tried with no token, a malformed one, an unknown one, a revoked one and another project's one.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helloOf, TelemetryClient } from "../../lib/client/TelemetryClient";
import { createIngestToken, revokeIngestToken } from "../../lib/store/ingestTokens";
import type { ClientMessage } from "../../generated/proto/moe/telemetry/v1/ClientMessage";
import type { ServerMessage__Output } from "../../generated/proto/moe/telemetry/v1/ServerMessage";
import { report, smallRanks, smallRun, spawnCollector, startCollector, tempDatabaseUrl, waitFor } from "./harness";

const CLI = path.resolve(import.meta.dirname, "../../bin/moe-telemetry.mjs");
const run = promisify(execFile);
/** cli runs `moe-telemetry ...args` and returns its stdout and stderr. */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args], { cwd: path.dirname(path.dirname(CLI)) });
}

type Started = Awaited<ReturnType<typeof startCollector>>;
type Outcome = { code: grpc.status; details: string };

const OK: Outcome = { code: grpc.status.OK, details: "" };

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return OK;
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { code: e.code, details: e.details };
  }
}

/** streamOutcome opens a Stream, says hello for `runKey`, and resolves with the first status (OK once welcomed). */
function streamOutcome(client: TelemetryClient, runKey: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const call: grpc.ClientDuplexStream<ClientMessage, ServerMessage__Output> = client.stub().Stream();
    call.on("data", (m: ServerMessage__Output) => {
      if (m.welcome) {
        call.end();
        resolve(OK);
      }
    });
    call.on("error", (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
    call.write({ hello: helloOf(runKey, smallRanks()[0], "auth-test") });
  });
}

const oom = { rank: 0, step: 1, phase: "forward", message: "CUDA out of memory" };

/** everyRpc runs each of the five RPCs against `runKey` and returns their outcomes by name. */
async function everyRpc(client: TelemetryClient, runKey: string): Promise<Record<string, Outcome>> {
  return {
    RegisterRun: await outcome(client.registerRun(smallRun(runKey))),
    Stream: await streamOutcome(client, runKey),
    Write: await outcome(client.write(runKey, smallRanks()[0], 1, [report(0, 1, 2)], [])),
    ReportOom: await outcome(client.reportOom(runKey, oom)),
    ReportEvent: await outcome(client.reportEvent(runKey, 0, "FINISHED", 1)),
  };
}

describe("ingest tokens", () => {
  let c: Started;
  const tokens: Record<"a" | "b" | "revoked", string> = { a: "", b: "", revoked: "" };
  const clients: TelemetryClient[] = [];
  const clientWith = (token: string) => {
    const client = new TelemetryClient(c.address, { token, deadlineMs: 5_000, tls: undefined });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    c = await startCollector(tempDatabaseUrl(), { auth: { mode: "on", cacheTtlMs: 0 } });
    tokens.a = (await createIngestToken(c.db, { projectName: "alpha", name: "a", createdBy: "test" })).token;
    tokens.b = (await createIngestToken(c.db, { projectName: "beta", name: "b", createdBy: "test" })).token;
    const revoked = await createIngestToken(c.db, { projectName: "alpha", name: "old", createdBy: "test" });
    tokens.revoked = revoked.token;
    // Used once while valid, so the refusal below is the revocation and not a never-seen token.
    expect((await outcome(clientWith(tokens.revoked).registerRun(smallRun("revoked-before"))))).toEqual(OK);
    await revokeIngestToken(c.db, revoked.info.id);
    // Project alpha's run, which every bad token below tries to use.
    await clientWith(tokens.a).registerRun(smallRun("alpha-run"));
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await c.stop();
  });

  const unauthenticated: Array<[string, () => string, RegExp]> = [
    ["no token", () => "", /no ingest token/],
    ["a malformed token", () => "not-a-token", /malformed ingest token/],
    ["an unknown token", () => `moe_${"x".repeat(43)}`, /unknown ingest token/],
    ["a revoked token", () => tokens.revoked, /revoked/],
  ];
  for (const [what, token, message] of unauthenticated) {
    it(`answers UNAUTHENTICATED to every RPC with ${what}, naming why and never echoing the token`, async () => {
      const results = await everyRpc(clientWith(token()), "alpha-run");
      for (const [rpc, r] of Object.entries(results)) {
        expect({ rpc, code: grpc.status[r.code] }).toEqual({ rpc, code: "UNAUTHENTICATED" });
        expect(r.details).toMatch(message);
        if (token()) expect(r.details).not.toContain(token());
      }
    });
  }

  it("answers PERMISSION_DENIED, naming the run, when another project's token uses a run", async () => {
    const results = await everyRpc(clientWith(tokens.b), "alpha-run");
    for (const [rpc, r] of Object.entries(results)) {
      expect({ rpc, code: grpc.status[r.code] }).toEqual({ rpc, code: "PERMISSION_DENIED" });
      expect(r.details).toMatch(/run "alpha-run" belongs to another project/);
      expect(r.details).not.toMatch(/alpha"/); // the owner's name is not disclosed
    }
  });

  it("accepts the owner's token on every RPC, stores the data, and files the run under its project", async () => {
    const results = await everyRpc(clientWith(tokens.a), "alpha-run");
    for (const [rpc, r] of Object.entries(results)) expect({ rpc, code: grpc.status[r.code] }).toEqual({ rpc, code: "OK" });
    const run = await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: "alpha-run" }, include: { events: true } });
    const project = await c.db.prisma.project.findUniqueOrThrow({ where: { name: "alpha" } });
    expect(run.projectId).toBe(project.id);
    expect(await c.db.prisma.layerReport.count({ where: { runId: run.id } })).toBe(1);
    expect(run.events.map((e) => e.kind).sort()).toEqual(["finished", "oom"]);
    // Last use is recorded (asynchronously, at most once a minute per token).
    await waitFor(async () => (await c.db.prisma.ingestToken.findFirstOrThrow({ where: { name: "a" } })).lastUsedMs !== null, 10_000, "lastUsedMs");
  });

  it("accepts the token in x-moe-token too, and refuses an authorization header that is not Bearer", async () => {
    const anonymous = clientWith("");
    const call = (md: grpc.Metadata) =>
      outcome(new Promise((resolve, reject) => anonymous.stub().ReportEvent({ run_key: "alpha-run", rank: 0, kind: "FINISHED", step: 2, message: "" }, md, (err, res) => (err ? reject(err) : resolve(res)))));
    const alt = new grpc.Metadata();
    alt.set("x-moe-token", tokens.a);
    expect(await call(alt)).toEqual(OK);
    const basic = new grpc.Metadata();
    basic.set("authorization", `Basic ${tokens.a}`);
    const r = await call(basic);
    expect(grpc.status[r.code]).toBe("UNAUTHENTICATED");
    expect(r.details).toMatch(/expected 'Bearer <token>'/);
    expect(r.details).not.toContain(tokens.a);
  });

  it("refuses a revoked token at once when the cache window is 0", async () => {
    const fresh = await createIngestToken(c.db, { projectName: "alpha", name: "short-lived", createdBy: "test" });
    const client = clientWith(fresh.token);
    expect(await outcome(client.reportEvent("alpha-run", 0, "FINISHED", 3))).toEqual(OK);
    await revokeIngestToken(c.db, fresh.info.id);
    const r = await outcome(client.reportEvent("alpha-run", 0, "FINISHED", 4));
    expect(grpc.status[r.code]).toBe("UNAUTHENTICATED");
  });

  it("ends an open stream once its token is revoked", async () => {
    const fresh = await createIngestToken(c.db, { projectName: "alpha", name: "streaming", createdBy: "test" });
    const stream = clientWith(fresh.token).openStream("alpha-run", smallRanks()[0]);
    stream.send([report(0, 10, 2)], []);
    await stream.acked();
    await revokeIngestToken(c.db, fresh.info.id);
    stream.send([report(0, 11, 2)], []);
    await expect(stream.acked()).rejects.toThrow(/UNAUTHENTICATED: the ingest token was revoked/);
  });

  it("lets a project claim a run registered while authentication was off, and keeps others out", async () => {
    const off = await startCollector(c.db.target.url, { auth: { mode: "off" } });
    const anon = new TelemetryClient(off.address, { token: "" });
    try {
      await anon.registerRun(smallRun("legacy-run"));
    } finally {
      anon.close();
      await off.collector.shutdown(1_000);
      await off.db.close();
    }
    expect((await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: "legacy-run" } })).projectId).toBeNull();
    expect(await outcome(clientWith(tokens.b).registerRun(smallRun("legacy-run")))).toEqual(OK);
    const beta = await c.db.prisma.project.findUniqueOrThrow({ where: { name: "beta" } });
    expect((await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: "legacy-run" } })).projectId).toBe(beta.id);
    expect(grpc.status[(await outcome(clientWith(tokens.a).registerRun(smallRun("legacy-run")))).code]).toBe("PERMISSION_DENIED");
  });

  it("answers the health check without a token", async () => {
    // grpc.health.v1.Health/Check by hand: an empty request; the response's field 1 is the status (1 = SERVING).
    const Health = grpc.makeGenericClientConstructor(
      {
        Check: {
          path: "/grpc.health.v1.Health/Check",
          requestStream: false,
          responseStream: false,
          requestSerialize: () => Buffer.alloc(0),
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      "Health",
    );
    const health = new Health(c.address, grpc.credentials.createInsecure()) as unknown as {
      Check(req: object, cb: (err: grpc.ServiceError | null, res?: Buffer) => void): void;
      close(): void;
    };
    try {
      const res = await new Promise<Buffer>((resolve, reject) => health.Check({}, (err, r) => (err || !r ? reject(err ?? new Error("empty")) : resolve(r))));
      expect([...res]).toEqual([0x08, 0x01]);
    } finally {
      health.close();
    }
  });
});

describe("ingest authentication off", () => {
  it("accepts RPCs without a token and files runs under no project", async () => {
    const c = await startCollector(tempDatabaseUrl(), { auth: { mode: "off" } });
    const client = new TelemetryClient(c.address, { token: "" });
    try {
      await client.registerRun(smallRun("open-run"));
      await client.write("open-run", smallRanks()[0], 1, [report(0, 1, 2)], []);
      const run = await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: "open-run" } });
      expect(run.projectId).toBeNull();
      expect(await c.db.prisma.layerReport.count({ where: { runId: run.id } })).toBe(1);
    } finally {
      client.close();
      await c.stop();
    }
  });
});

describe("ingest tokens from the command line", () => {
  it("creates (printing the token once), lists, and revokes tokens; lists projects", async () => {
    const url = tempDatabaseUrl();
    const created = await cli("tokens", "create", "--project", "gamma", "--name", "cluster A", "--database", url);
    const token = created.stdout.trim();
    expect(token).toMatch(/^moe_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/shown only this once/);
    expect(created.stderr).toMatch(/export MOE_TELEMETRY_TOKEN=/);

    const listed = JSON.parse((await cli("tokens", "list", "--json", "--database", url)).stdout) as Array<{ id: string; projectName: string; name: string; prefix: string; revokedAtMs: number | null }>;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ projectName: "gamma", name: "cluster A", prefix: token.slice(0, 12), revokedAtMs: null });
    const table = (await cli("tokens", "list", "--database", url)).stdout;
    expect(table).toMatch(/ID\s+PROJECT\s+NAME\s+PREFIX\s+CREATED\s+LAST USED\s+REVOKED/);
    expect(table).not.toContain(token);

    expect((await cli("tokens", "revoke", listed[0].id, "--database", url)).stdout).toMatch(/revoked ingest token/);
    const after = JSON.parse((await cli("tokens", "list", "--json", "--database", url)).stdout) as Array<{ revokedAtMs: number | null }>;
    expect(after[0].revokedAtMs).not.toBeNull();
    await expect(cli("tokens", "revoke", "no-such-id", "--database", url)).rejects.toThrow(/ingest token "no-such-id" does not exist/);
    expect((await cli("projects", "list", "--database", url)).stdout).toMatch(/gamma/);
  });

  it("prints a quick-start token on the collector's first start only, and that token works", async () => {
    const url = tempDatabaseUrl();
    const first = await spawnCollector(url, 0, { INGEST_AUTH: "on" });
    let token = "";
    try {
      const m = /export MOE_TELEMETRY_TOKEN=(moe_\S+)/.exec(first.output());
      expect(m).not.toBeNull();
      token = m![1];
      const client = new TelemetryClient(`127.0.0.1:${first.port}`, { token });
      try {
        expect((await client.registerRun(smallRun("quick"))).created).toBe(true);
      } finally {
        client.close();
      }
    } finally {
      first.child.kill("SIGTERM");
      await new Promise((r) => first.child.once("exit", r));
    }
    const second = await spawnCollector(url, 0, { INGEST_AUTH: "on" });
    try {
      expect(second.output()).not.toMatch(/MOE_TELEMETRY_TOKEN=moe_/);
      expect(second.output()).not.toContain(token);
    } finally {
      second.child.kill("SIGTERM");
      await new Promise((r) => second.child.once("exit", r));
    }
  });

  it("refuses to start with TLS files that cannot be used, naming the setting", async () => {
    await expect(spawnCollector(tempDatabaseUrl(), 0, { COLLECTOR_TLS_CERT: "/nonexistent/cert.pem", COLLECTOR_TLS_KEY: "/nonexistent/key.pem" })).rejects.toThrow(
      /COLLECTOR_TLS_CERT: cannot read \/nonexistent\/cert\.pem \(ENOENT\)/,
    );
  });
});
