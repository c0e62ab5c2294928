/**
 * The signed-in user for server components (layout, admin pages), from the request's cookies.
 * Pages are already behind proxy.ts; this is what they show and a second check for the admin pages.
 */
import { cookies } from "next/headers";
import { getDb } from "../data/webDb";
import { SESSION_COOKIE } from "./config";
import { authFromCookie, type RequestAuth } from "./request";

/** pageAuth resolves the current request's session (or login off). */
export async function pageAuth(): Promise<RequestAuth> {
  const jar = await cookies();
  const value = jar.get(SESSION_COOKIE)?.value;
  return authFromCookie(getDb, value ? `${SESSION_COOKIE}=${value}` : null);
}
