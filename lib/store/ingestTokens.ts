/**
 * Projects and their ingest tokens: created from the CLI or the dashboard, shown once, stored as a
 * SHA-256 hash, revocable. The collector checks every RPC's token through a TokenVerifier, which
 * caches answers briefly so a rank's RPCs do not each cost a database read.
 *
 * Why SHA-256 and not a slow hash: a token is 256 random bits, so guessing is hopeless whatever the
 * hash; a fast hash lets verification be one indexed lookup.
 */
import { LRUCache } from "lru-cache";
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { InvalidInput, NotFound } from "../analysis/errors";
import type { Db } from "./db";
import { parseEnv } from "../runtime/env";

// What may be shown of projects and tokens is defined with the other DTOs (a client component lists them).
import type { IngestTokenInfo, ProjectInfo } from "../dto";
export type { IngestTokenInfo, ProjectInfo };

/** TOKEN_PREFIX starts every token, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = "moe_";
/** Characters of a token kept in clear to recognise it in lists: the marker plus 8 of the 43 secret ones. */
const SHOWN_CHARS = TOKEN_PREFIX.length + 8;
const TOKEN_RE = /^moe_[A-Za-z0-9_-]{43}$/;
const MAX_NAME = 100;

/** ingestAuthMode is whether the collector checks ingest tokens (env INGEST_AUTH, default "on"). */
export function ingestAuthMode(source: Record<string, string | undefined> = process.env): "on" | "off" {
  return parseEnv(source).INGEST_AUTH;
}

/** isWellFormedToken tells a token of ours from any other string, before any database work. */
export function isWellFormedToken(token: string): boolean {
  return TOKEN_RE.test(token);
}

/** hashToken is the hex SHA-256 stored for a token. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

function checkName(what: string, name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new InvalidInput(`${what} must not be empty`, what);
  if (trimmed.length > MAX_NAME) throw new InvalidInput(`${what} is ${trimmed.length} characters long; at most ${MAX_NAME} are allowed`, what);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new InvalidInput(`${what} must not contain control characters`, what);
  return trimmed;
}

interface ProjectRow {
  id: string;
  name: string;
  createdAtMs: bigint;
}

interface TokenRow {
  id: string;
  projectId: string;
  name: string;
  prefix: string;
  createdAtMs: bigint;
  createdBy: string;
  lastUsedMs: bigint | null;
  revokedAtMs: bigint | null;
  project: { name: string };
}

function projectFromRow(r: ProjectRow): ProjectInfo {
  return { id: r.id, name: r.name, createdAtMs: Number(r.createdAtMs) };
}

function tokenFromRow(r: TokenRow): IngestTokenInfo {
  return {
    id: r.id,
    projectId: r.projectId,
    projectName: r.project.name,
    name: r.name,
    prefix: r.prefix,
    createdAtMs: Number(r.createdAtMs),
    createdBy: r.createdBy,
    lastUsedMs: r.lastUsedMs === null ? null : Number(r.lastUsedMs),
    revokedAtMs: r.revokedAtMs === null ? null : Number(r.revokedAtMs),
  };
}

/** listProjects returns every project, by name. */
export async function listProjects(db: Db): Promise<ProjectInfo[]> {
  const rows = await db.prisma.project.findMany({ orderBy: { name: "asc" } });
  return rows.map(projectFromRow);
}

/** createProject creates a project, or returns the existing one of that name (idempotent on name). */
export async function createProject(db: Db, name: string): Promise<ProjectInfo> {
  const clean = checkName("project", name);
  const existing = await db.prisma.project.findUnique({ where: { name: clean } });
  if (existing) return projectFromRow(existing);
  try {
    return projectFromRow(await db.prisma.project.create({ data: { id: randomUUID(), name: clean, createdAtMs: BigInt(Date.now()) } }));
  } catch (err) {
    // Created concurrently by another process: the unique name decides, read the winner.
    const again = await db.prisma.project.findUnique({ where: { name: clean } });
    if (again) return projectFromRow(again);
    throw err;
  }
}

/**
 * createIngestToken makes a token for a project (created if missing). The returned `token` is the only
 * time the secret exists outside the caller's hands: only its hash is stored.
 */
export async function createIngestToken(
  db: Db,
  o: { projectName: string; name: string; createdBy: string },
): Promise<{ token: string; info: IngestTokenInfo }> {
  const name = checkName("token name", o.name);
  const project = await createProject(db, o.projectName);
  const token = newToken();
  const row = await db.prisma.ingestToken.create({
    data: {
      id: randomUUID(),
      projectId: project.id,
      name,
      prefix: token.slice(0, SHOWN_CHARS),
      hash: hashToken(token),
      createdAtMs: BigInt(Date.now()),
      createdBy: o.createdBy,
    },
    include: { project: { select: { name: true } } },
  });
  return { token, info: tokenFromRow(row) };
}

/** listIngestTokens returns every token (revoked ones too), newest first. */
export async function listIngestTokens(db: Db): Promise<IngestTokenInfo[]> {
  const rows = await db.prisma.ingestToken.findMany({
    orderBy: [{ createdAtMs: "desc" }, { id: "asc" }],
    include: { project: { select: { name: true } } },
  });
  return rows.map(tokenFromRow);
}

/** revokeIngestToken revokes a token by id (revoking twice keeps the first time); NotFound if unknown. */
export async function revokeIngestToken(db: Db, id: string): Promise<IngestTokenInfo> {
  const row = await db.prisma.ingestToken.findUnique({ where: { id }, include: { project: { select: { name: true } } } });
  if (!row) throw new NotFound(`ingest token ${JSON.stringify(id)} does not exist`, "id");
  if (row.revokedAtMs !== null) return tokenFromRow(row);
  const updated = await db.prisma.ingestToken.update({
    where: { id },
    data: { revokedAtMs: BigInt(Date.now()) },
    include: { project: { select: { name: true } } },
  });
  return tokenFromRow(updated);
}

/** countIngestTokens is the number of tokens stored, revoked ones included. */
export async function countIngestTokens(db: Db): Promise<number> {
  return db.prisma.ingestToken.count();
}

/**
 * ensureQuickStartToken makes the zero-configuration start work with authentication on: when the
 * database holds no token at all, it creates project "default" with a token named "quick start" and
 * returns the secret (for the caller to print once); otherwise null. Once any token exists (even
 * revoked), nothing is created again.
 */
export async function ensureQuickStartToken(db: Db): Promise<{ token: string; info: IngestTokenInfo } | null> {
  if ((await countIngestTokens(db)) > 0) return null;
  return createIngestToken(db, { projectName: "default", name: "quick start", createdBy: "quick start" });
}

/** TokenCheck: the outcome of verifying a presented token. */
export type TokenCheck =
  | { ok: true; tokenId: string; projectId: string; projectName: string }
  | { ok: false; reason: "malformed" | "unknown" | "revoked" };

/** TokenVerifierOptions: how long answers are cached and how often last-use times are written. */
export interface TokenVerifierOptions {
  /** How long a verification answer is reused, ms; a revocation takes effect within this. Default 2000; 0 disables the cache. */
  cacheTtlMs?: number;
  /** Least time between two writes of a token's lastUsedMs, ms. Default 60 000. */
  touchIntervalMs?: number;
  now?: () => number;
  /** Called when writing lastUsedMs fails (it never fails a verification). */
  onTouchError?: (err: unknown) => void;
}

const CACHE_LIMIT = 10_000;

/**
 * TokenVerifier answers "which project does this token belong to" with one indexed lookup by hash,
 * cached for `cacheTtlMs` (unknown tokens too, so a flood of bad tokens costs no reads either; the
 * cache is an LRU bounded at CACHE_LIMIT, on the verifier's clock).
 */
export class TokenVerifier {
  private readonly cache: LRUCache<string, { check: TokenCheck; until: number }>;
  private readonly touched: LRUCache<string, number>;
  private readonly ttl: number;
  private readonly touchEvery: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    private readonly opts: TokenVerifierOptions = {},
  ) {
    this.ttl = opts.cacheTtlMs ?? 2_000;
    this.touchEvery = opts.touchIntervalMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.cache = new LRUCache({ max: CACHE_LIMIT });
    this.touched = new LRUCache({ max: CACHE_LIMIT });
  }

  /** cacheTtlMs is how long a revoked token may still be accepted by this verifier. */
  get cacheTtlMs(): number {
    return this.ttl;
  }

  /** verify checks a presented token. */
  async verify(token: string): Promise<TokenCheck> {
    if (!isWellFormedToken(token)) return { ok: false, reason: "malformed" };
    const hash = hashToken(token);
    const now = this.now();
    const hit = this.cache.get(hash);
    let check: TokenCheck;
    if (hit && hit.until > now) {
      check = hit.check;
    } else {
      check = await this.lookup(hash);
      if (this.ttl > 0) this.cache.set(hash, { check, until: now + this.ttl });
    }
    if (check.ok) this.touch(check.tokenId, now);
    return check;
  }

  private async lookup(hash: string): Promise<TokenCheck> {
    const row = await this.db.prisma.ingestToken.findUnique({
      where: { hash },
      select: { id: true, hash: true, projectId: true, revokedAtMs: true, project: { select: { name: true } } },
    });
    // The lookup is by index; the constant-time compare only guards against an index that matched loosely.
    if (!row || !timingSafeEqual(Buffer.from(row.hash), Buffer.from(hash))) return { ok: false, reason: "unknown" };
    if (row.revokedAtMs !== null) return { ok: false, reason: "revoked" };
    return { ok: true, tokenId: row.id, projectId: row.projectId, projectName: row.project.name };
  }

  private touch(tokenId: string, now: number): void {
    const last = this.touched.get(tokenId);
    if (last !== undefined && now - last < this.touchEvery) return;
    this.touched.set(tokenId, now);
    this.db.prisma.ingestToken
      .update({ where: { id: tokenId }, data: { lastUsedMs: BigInt(now) } })
      .catch((err: unknown) => this.opts.onTouchError?.(err));
  }
}
