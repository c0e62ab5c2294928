/**
 * Login sessions. The cookie carries a 256-bit random secret; the database keeps only its SHA-256 as
 * the session id, so a leaked database (or backup) holds no usable session. Each lookup joins the user,
 * so disabling a user or changing a role applies to the very next request.
 */
import type { Db } from "../../store/db";
import { SESSION_IDLE_MS, SESSION_TOUCH_MS, SESSION_TTL_MS } from "./config";
import { isRole, type Role } from "./roles";
import { randomSecret, sha256Hex } from "./tokens";

/** SessionUser: who a valid session belongs to. */
export interface SessionUser {
  id: string;
  username: string;
  role: Role;
}

/** createSession starts a session for a user and returns the secret for the cookie. */
export async function createSession(db: Db, userId: string, now = Date.now()): Promise<{ secret: string; expiresAtMs: number }> {
  const secret = randomSecret();
  const expiresAtMs = now + SESSION_TTL_MS;
  await db.prisma.session.create({
    data: { id: sha256Hex(secret), userId, csrfToken: randomSecret(), createdAtMs: BigInt(now), expiresAtMs: BigInt(expiresAtMs), lastSeenMs: BigInt(now) },
  });
  // Opportunistic cleanup: logins are rare, so this costs nothing noticeable and keeps the table small.
  await db.prisma.session.deleteMany({ where: { OR: [{ expiresAtMs: { lt: BigInt(now) } }, { lastSeenMs: { lt: BigInt(now - SESSION_IDLE_MS) } }] } });
  return { secret, expiresAtMs };
}

/**
 * resolveSession returns the session's user, or null when the secret is unknown, expired (absolute or
 * idle), or its user is disabled. An expired session is deleted on the way.
 */
export async function resolveSession(db: Db, secret: string, now = Date.now()): Promise<SessionUser | null> {
  if (!secret || secret.length > 200) return null;
  const id = sha256Hex(secret);
  const s = await db.prisma.session.findUnique({ where: { id }, include: { user: true } });
  if (!s) return null;
  if (Number(s.expiresAtMs) <= now || Number(s.lastSeenMs) + SESSION_IDLE_MS <= now) {
    await db.prisma.session.deleteMany({ where: { id } });
    return null;
  }
  if (s.user.disabled || !isRole(s.user.role)) return null;
  if (now - Number(s.lastSeenMs) >= SESSION_TOUCH_MS) {
    await db.prisma.session.updateMany({ where: { id }, data: { lastSeenMs: BigInt(now) } });
  }
  return { id: s.user.id, username: s.user.username, role: s.user.role };
}

/** deleteSession ends a session (logout); unknown secrets are ignored. */
export async function deleteSession(db: Db, secret: string): Promise<void> {
  if (secret) await db.prisma.session.deleteMany({ where: { id: sha256Hex(secret) } });
}
