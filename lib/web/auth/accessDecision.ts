/**
 * The dashboard's one gate, as a decision: proxy.ts (Next's proxy, for every request Next serves) and the
 * dashboard server's own fast routes (lib/web/http/dashboardServer.ts) both call accessDecision and only translate
 * its answer into their response types, so the rules exist once:
 * - no URL may hold a NUL character (PostgreSQL refuses one in a query parameter, which would surface as a 500);
 * - state-changing requests must come from this dashboard's own origin (CSRF, origin.ts);
 * - without a valid session, API routes, the live streams and /metrics answer 401 JSON, pages redirect to
 *   /login?next=... (or to /setup while no user exists);
 * - a session whose role is too low gets 403 JSON naming the role needed (policy.ts).
 * Public: /login, /setup, /api/health, /api/auth/*, Next's static assets; /metrics also with METRICS_TOKEN.
 * With DASHBOARD_AUTH=off only the NUL and origin checks remain.
 */
import { envSetting } from "../../runtime/env";
import { internalErrorId, internalErrorMessage } from "../../runtime/internalError";
import { getDb } from "../data/webDb";
import { dashboardAuthMode } from "./config";
import { checkOrigin, requestOrigin } from "./origin";
import { isApiPath, isPublicPath, requiredRole } from "./policy";
import { authFromCookie, isMetricsScrape } from "./request";
import { roleAtLeast } from "./roles";
import { countUsers } from "./users";

/** GateRequest: what the gate looks at (the URL as the server received it, its path and query apart). */
export interface GateRequest {
  method: string;
  /** Absolute URL of the request. */
  url: string;
  pathname: string;
  /** The query with its leading "?" (or ""), kept in the login redirect's `next`. */
  search: string;
  headers: Headers;
}

/** GateDecision: let the request through, refuse it with a JSON error, or send the browser elsewhere. */
export type GateDecision =
  | { action: "pass" }
  | { action: "deny"; status: 400 | 401 | 403 | 503; error: string }
  | { action: "redirect"; location: string };

/** DENY_HEADERS: refusals and redirects depend on the session, so no cache may keep them. */
export const DENY_HEADERS = { "cache-control": "no-store" } as const;

const PASS: GateDecision = { action: "pass" };

function deny(status: 400 | 401 | 403 | 503, error: string): GateDecision {
  return { action: "deny", status, error };
}

/** accessDecision applies the dashboard's access rules to one request. */
export async function accessDecision(req: GateRequest): Promise<GateDecision> {
  const { pathname, search } = req;
  if (/%00/.test(req.url) || pathname.includes("\u0000")) return deny(400, "malformed URL: it contains a NUL character (%00)");
  const origin = checkOrigin(req.method, req.url, req.headers, envSetting("DASHBOARD_URL"));
  if (!origin.ok) return deny(403, origin.reason);
  if (isPublicPath(pathname)) return PASS;
  let auth;
  try {
    if (dashboardAuthMode() === "off") return PASS;
    if (isMetricsScrape(pathname, req.headers.get("authorization"))) return PASS;
    auth = await authFromCookie(getDb, req.headers.get("cookie"));
  } catch (err) {
    return deny(503, internalErrorMessage(internalErrorId(err, undefined, "cannot check the session"), "cannot check the session"));
  }
  const api = isApiPath(pathname);
  if (!auth.user) {
    if (api) return deny(401, "sign in first: this needs a dashboard session (POST /api/auth/login)");
    const needsSetup = (await countUsers(await getDb())) === 0;
    // On the host and scheme the browser used (a TLS proxy's included), not the server's normalized URL.
    const to = new URL(needsSetup ? "/setup" : "/login", requestOrigin(req.url, req.headers));
    if (!needsSetup) to.searchParams.set("next", pathname + search);
    return { action: "redirect", location: to.toString() };
  }
  const needed = requiredRole(req.method, pathname);
  if (!roleAtLeast(auth.user.role, needed)) {
    // Pages render their own "needs admin" panel (a redirect would hide why); APIs answer 403.
    if (api) return deny(403, `this needs the ${needed} role; ${auth.user.username} is ${auth.user.role}`);
  }
  return PASS;
}
