/**
 * Projects and ingest tokens against a real SQLite file: creation shows the secret once and stores
 * only its hash, revocation, the quick-start token, and the verifier's cache window (driven by an
 * injected clock, so no test waits on wall time).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFound } from "../analysis/errors";
import { openDatabase, type Db } from "./db";
import {
  createIngestToken,
  createProject,
  ensureQuickStartToken,
  hashToken,
  ingestAuthMode,
  listIngestTokens,
  listProjects,
  revokeIngestToken,
  TokenVerifier,
} from "./ingestTokens";

describe("ingest tokens", () => {
  let db: Db;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "moe-tokens-"));
    db = await openDatabase(`file:${path.join(dir, "t.db")}`);
  });
  afterAll(async () => {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates the quick-start token once, only while no token exists", async () => {
    const first = await ensureQuickStartToken(db);
    expect(first?.info).toMatchObject({ projectName: "default", name: "quick start" });
    expect(await ensureQuickStartToken(db)).toBeNull();
  });

  it("stores a hash and a short prefix, never the token", async () => {
    const { token, info } = await createIngestToken(db, { projectName: "lab", name: "cluster A", createdBy: "cli" });
    expect(token).toMatch(/^moe_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(info.prefix)).toBe(true);
    expect(info.prefix.length).toBe(12);
    const row = await db.prisma.ingestToken.findUniqueOrThrow({ where: { id: info.id } });
    expect(row.hash).toBe(hashToken(token));
    expect(JSON.stringify(row, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v))).not.toContain(token.slice(12));
    expect(info).toMatchObject({ projectName: "lab", name: "cluster A", createdBy: "cli", lastUsedMs: null, revokedAtMs: null });
  });

  it("creates projects idempotently by name and rejects empty or overlong names", async () => {
    const a = await createProject(db, "vision");
    expect(await createProject(db, "  vision ")).toEqual(a);
    expect((await listProjects(db)).map((p) => p.name)).toEqual(["default", "lab", "vision"]);
    await expect(createProject(db, " ")).rejects.toThrow(/project must not be empty/);
    await expect(createProject(db, "x".repeat(101))).rejects.toThrow(/at most 100/);
  });

  it("revokes by id, keeps the first revocation time, and says NotFound for an unknown id", async () => {
    const { info } = await createIngestToken(db, { projectName: "lab", name: "to revoke", createdBy: "cli" });
    const revoked = await revokeIngestToken(db, info.id);
    expect(revoked.revokedAtMs).not.toBeNull();
    expect((await revokeIngestToken(db, info.id)).revokedAtMs).toBe(revoked.revokedAtMs);
    expect((await listIngestTokens(db)).find((t) => t.id === info.id)?.revokedAtMs).toBe(revoked.revokedAtMs);
    await expect(revokeIngestToken(db, "nope")).rejects.toBeInstanceOf(NotFound);
  });

  it("verifies by hash, caches answers for the TTL, and sees a revocation once the TTL has passed", async () => {
    let now = 1_000_000;
    const v = new TokenVerifier(db, { cacheTtlMs: 2_000, touchIntervalMs: 60_000, now: () => now });
    const { token, info } = await createIngestToken(db, { projectName: "lab", name: "cached", createdBy: "cli" });
    const project = (await listProjects(db)).find((p) => p.name === "lab");
    expect(await v.verify(token)).toEqual({ ok: true, tokenId: info.id, projectId: project?.id, projectName: "lab" });
    expect(await v.verify("moe_short")).toEqual({ ok: false, reason: "malformed" });
    expect(await v.verify(`moe_${"A".repeat(43)}`)).toEqual({ ok: false, reason: "unknown" });

    await revokeIngestToken(db, info.id);
    now += 1_999; // still inside the window: the cached answer stands
    expect((await v.verify(token)).ok).toBe(true);
    now += 1; // window over: read again
    expect(await v.verify(token)).toEqual({ ok: false, reason: "revoked" });
  });

  it("records last use at most once per touch interval", async () => {
    let now = 5_000_000;
    const v = new TokenVerifier(db, { cacheTtlMs: 0, touchIntervalMs: 60_000, now: () => now });
    const { token, info } = await createIngestToken(db, { projectName: "lab", name: "touched", createdBy: "cli" });
    const lastUsed = async () => (await listIngestTokens(db)).find((t) => t.id === info.id)?.lastUsedMs;
    await v.verify(token);
    await expect.poll(lastUsed).toBe(5_000_000);
    now += 59_999;
    await v.verify(token);
    now += 1;
    await v.verify(token);
    await expect.poll(lastUsed).toBe(5_060_000);
  });

  it("reads INGEST_AUTH, on by default, and names the variable when it is wrong", () => {
    expect(ingestAuthMode({})).toBe("on");
    expect(ingestAuthMode({ INGEST_AUTH: "off" })).toBe("off");
    expect(() => ingestAuthMode({ INGEST_AUTH: "false" })).toThrow(/INGEST_AUTH/);
  });
});
