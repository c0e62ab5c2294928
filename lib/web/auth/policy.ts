/**
 * Which requests need a session and which role: the one table proxy.ts enforces for every request, and
 * that route handlers repeat for their own mutations (so a matcher mistake cannot open a write path).
 */
import { isMutation } from "./origin";
import type { Role } from "./roles";

/** PUBLIC_PATHS: reachable without a session. Everything else needs one. */
export function isPublicPath(pathname: string): boolean {
  return (
    pathname === "/login" ||
    pathname === "/setup" ||
    pathname === "/api/health" ||
    pathname.startsWith("/api/auth/") ||
    pathname.startsWith("/_next/") ||
    pathname === "/favicon.ico"
  );
}

/** isApiPath: answered with JSON errors (401/403) rather than a redirect to the login page. */
export function isApiPath(pathname: string): boolean {
  return pathname.startsWith("/api/") || pathname === "/metrics";
}

/**
 * requiredRole: the least role for a request. Reading is viewer; user and token management is admin;
 * every other state change is editor — including routes added later, unless listed here as read-only.
 */
export function requiredRole(method: string, pathname: string): Role {
  if (pathname.startsWith("/api/admin/") || pathname === "/api/admin" || pathname.startsWith("/admin")) return "admin";
  if (!isMutation(method)) return "viewer";
  // POST only to analyse a pasted launch line: nothing is stored.
  if (pathname === "/api/config/check") return "viewer";
  return "editor";
}
