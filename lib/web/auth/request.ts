/**
 * Who is asking: resolves the session cookie of an incoming request (proxy.ts, route handlers, pages).
 */
import type { Db } from "../../store/db";
import { dashboardAuthMode, metricsToken } from "./config";
import { readCookie } from "./cookies";
import { Forbidden, Unauthenticated } from "../../analysis/errors";
import { roleAtLeast, type Role } from "./roles";
import { resolveSession, type SessionUser } from "./sessions";
import { equalSecrets } from "./tokens";

/** ANONYMOUS_ADMIN: the identity of every request when DASHBOARD_AUTH=off. */
export const ANONYMOUS_ADMIN: SessionUser = { id: "", username: "anonymous", role: "admin" };

/** RequestAuth: login off, or the signed-in user (null when there is no valid session). */
export type RequestAuth = { mode: "off"; user: SessionUser } | { mode: "on"; user: SessionUser | null };

/** authFromCookie resolves a Cookie header against the sessions table. */
export async function authFromCookie(db: () => Promise<Db>, cookieHeader: string | null, now = Date.now()): Promise<RequestAuth> {
  if (dashboardAuthMode() === "off") return { mode: "off", user: ANONYMOUS_ADMIN };
  const secret = readCookie(cookieHeader);
  if (!secret) return { mode: "on", user: null };
  return { mode: "on", user: await resolveSession(await db(), secret, now) };
}

/** assertRole throws Unauthenticated (401) without a session, Forbidden (403) naming the needed role. */
export function assertRole(auth: RequestAuth, needed: Role): SessionUser {
  if (!auth.user) throw new Unauthenticated("sign in first: this needs a dashboard session (POST /api/auth/login)");
  if (!roleAtLeast(auth.user.role, needed)) {
    throw new Forbidden(`this needs the ${needed} role; ${auth.user.username} is ${auth.user.role}`);
  }
  return auth.user;
}

/** isMetricsScrape: a /metrics request carrying METRICS_TOKEN as a bearer token. */
export function isMetricsScrape(pathname: string, authorization: string | null, env: Record<string, string | undefined> = process.env): boolean {
  const token = metricsToken(env);
  if (pathname !== "/metrics" || !token || !authorization?.startsWith("Bearer ")) return false;
  return equalSecrets(authorization.slice("Bearer ".length).trim(), token);
}
