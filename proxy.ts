/**
 * Next.js 16 proxy (formerly "middleware"): runs on the Node.js runtime in the dashboard process before any
 * page, route handler or SSE stream Next serves. It is the gate for dashboard login; the rules themselves
 * are lib/web/auth/accessDecision.ts, shared with the dashboard server's own fast routes
 * (lib/web/http/dashboardServer.ts), so both enforce exactly the same ones. This file only turns the decision into
 * Next's responses.
 */
import { NextResponse, type NextRequest } from "next/server";
import { accessDecision, DENY_HEADERS } from "@/lib/web/auth/accessDecision";

export async function proxy(req: NextRequest): Promise<NextResponse> {
  const { pathname, search } = req.nextUrl;
  const d = await accessDecision({ method: req.method, url: req.url, pathname, search, headers: req.headers });
  if (d.action === "pass") return NextResponse.next();
  if (d.action === "redirect") return NextResponse.redirect(d.location, { status: 307, headers: DENY_HEADERS });
  return NextResponse.json({ error: d.error }, { status: d.status, headers: DENY_HEADERS });
}

export const config = {
  // Everything but Next's build assets; isPublicPath decides the rest, so a new route is protected by default.
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
