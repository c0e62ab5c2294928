/**
 * Dashboard authentication settings, read from the environment of the dashboard process.
 *
 * DASHBOARD_AUTH=off turns login off entirely (every page then says so in a banner); anything other than
 * "on", "off" or unset is a configuration error, so a typo can never silently open the dashboard. Each
 * setting is validated by the same zod schema as the collector's (lib/runtime/env.ts).
 */
import { envSetting } from "../../runtime/env";

/** SESSION_COOKIE: the cookie that holds the session secret. */
export const SESSION_COOKIE = "moe_session";

/** Sessions end 7 days after login at the latest, or after 12 hours without a request. */
export const SESSION_TTL_MS = 7 * 24 * 3600_000;
export const SESSION_IDLE_MS = 12 * 3600_000;
/** lastSeen is written at most this often, so reading pages does not write to the database on every request. */
export const SESSION_TOUCH_MS = 60_000;

/** dashboardAuthMode: "on" (default) or "off", from DASHBOARD_AUTH. */
export function dashboardAuthMode(env: Record<string, string | undefined> = process.env): "on" | "off" {
  return envSetting("DASHBOARD_AUTH", env);
}

/**
 * cookieSecureMode: COOKIE_SECURE=auto (default) marks the cookie Secure when the request reached us over
 * https or through a trusted TLS proxy that says so (X-Forwarded-Proto: https); "on" always, "off" never.
 */
export function cookieSecureMode(env: Record<string, string | undefined> = process.env): "auto" | "on" | "off" {
  return envSetting("COOKIE_SECURE", env);
}

/**
 * metricsToken: with METRICS_TOKEN set, /metrics also accepts `Authorization: Bearer <METRICS_TOKEN>`
 * (what Prometheus's scrape config sends), since a scraper cannot sign in. Unset: a session is needed.
 */
export function metricsToken(env: Record<string, string | undefined> = process.env): string | null {
  return envSetting("METRICS_TOKEN", env) ?? null;
}
