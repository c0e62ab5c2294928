/**
 * Next.js 16 proxy (formerly "middleware"): runs on the Node.js runtime in the `next start` process that
 * `moe-telemetry serve` spawns, before any page, route handler or SSE stream. It is the one gate for
 * dashboard login:
 * - state-changing requests must come from this dashboard's own origin (CSRF, lib/server/auth/origin.ts);
 * - without a valid session, API routes, the live streams and /metrics answer 401 JSON, pages redirect to
 *   /login?next=... (or to /setup while no user exists);
 * - a session whose role is too low gets 403 JSON naming the role needed (lib/server/auth/policy.ts).
 * Public: /login, /setup, /api/health, /api/auth/*, Next's static assets; /metrics also with METRICS_TOKEN.
 * With DASHBOARD_AUTH=off only the origin check remains.
 */
import { NextResponse, type NextRequest } from "next/server";
import { dashboardAuthMode } from "@/lib/server/auth/config";
import { checkOrigin, requestOrigin } from "@/lib/server/auth/origin";
import { isApiPath, isPublicPath, requiredRole } from "@/lib/server/auth/policy";
import { authFromCookie, isMetricsScrape } from "@/lib/server/auth/request";
import { roleAtLeast } from "@/lib/server/auth/roles";
import { countUsers } from "@/lib/server/auth/users";
import { getDb } from "@/lib/server/webDb";

function deny(status: 400 | 401 | 403 | 503, error: string): NextResponse {
  return NextResponse.json({ error }, { status, headers: { "cache-control": "no-store" } });
}

export async function proxy(req: NextRequest): Promise<NextResponse> {
  const { pathname, search } = req.nextUrl;
  // No run id, layer or name may hold a NUL character (PostgreSQL refuses one in a query parameter, which
  // would surface as a 500): such a URL is malformed, whatever route it names.
  if (/%00/.test(req.url) || pathname.includes("\u0000")) return deny(400, "malformed URL: it contains a NUL character (%00)");
  const origin = checkOrigin(req.method, req.url, req.headers, process.env.DASHBOARD_URL);
  if (!origin.ok) return deny(403, origin.reason);
  if (isPublicPath(pathname)) return NextResponse.next();
  let auth;
  try {
    if (dashboardAuthMode() === "off") return NextResponse.next();
    if (isMetricsScrape(pathname, req.headers.get("authorization"))) return NextResponse.next();
    auth = await authFromCookie(getDb, req.headers.get("cookie"));
  } catch (err) {
    return deny(503, `cannot check the session: ${err instanceof Error ? err.message : String(err)}`);
  }
  const api = isApiPath(pathname);
  if (!auth.user) {
    if (api) return deny(401, "sign in first: this needs a dashboard session (POST /api/auth/login)");
    const needsSetup = (await countUsers(await getDb())) === 0;
    // On the host and scheme the browser used (a TLS proxy's included), not Next's normalized URL.
    const to = new URL(needsSetup ? "/setup" : "/login", requestOrigin(req.url, req.headers));
    if (!needsSetup) to.searchParams.set("next", pathname + search);
    return NextResponse.redirect(to, { status: 307, headers: { "cache-control": "no-store" } });
  }
  const needed = requiredRole(req.method, pathname);
  if (!roleAtLeast(auth.user.role, needed)) {
    // Pages render their own "needs admin" panel (a redirect would hide why); APIs answer 403.
    if (api) return deny(403, `this needs the ${needed} role; ${auth.user.username} is ${auth.user.role}`);
  }
  return NextResponse.next();
}

export const config = {
  // Everything but Next's build assets; isPublicPath decides the rest, so a new route is protected by default.
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
