/**
 * Dashboard authentication settings, read from the environment of the dashboard process.
 *
 * DASHBOARD_AUTH=off turns login off entirely (every page then says so in a banner); anything other than
 * "on", "off" or unset is a configuration error, so a typo can never silently open the dashboard.
 */

/** SESSION_COOKIE: the cookie that holds the session secret. */
export const SESSION_COOKIE = "moe_session";

/** Sessions end 7 days after login at the latest, or after 12 hours without a request. */
export const SESSION_TTL_MS = 7 * 24 * 3600_000;
export const SESSION_IDLE_MS = 12 * 3600_000;
/** lastSeen is written at most this often, so reading pages does not write to the database on every request. */
export const SESSION_TOUCH_MS = 60_000;

/** dashboardAuthMode: "on" (default) or "off", from DASHBOARD_AUTH. */
export function dashboardAuthMode(env: Record<string, string | undefined> = process.env): "on" | "off" {
  const v = (env.DASHBOARD_AUTH ?? "").trim().toLowerCase();
  if (v === "" || v === "on") return "on";
  if (v === "off") return "off";
  throw new Error(`DASHBOARD_AUTH must be "on" or "off", got "${env.DASHBOARD_AUTH}"`);
}

/**
 * cookieSecureMode: COOKIE_SECURE=auto (default) marks the cookie Secure when the request reached us over
 * https or through a TLS proxy that says so (X-Forwarded-Proto: https); "on" always, "off" never.
 */
export function cookieSecureMode(env: Record<string, string | undefined> = process.env): "auto" | "on" | "off" {
  const v = (env.COOKIE_SECURE ?? "").trim().toLowerCase();
  if (v === "" || v === "auto") return "auto";
  if (v === "on" || v === "off") return v;
  throw new Error(`COOKIE_SECURE must be "auto", "on" or "off", got "${env.COOKIE_SECURE}"`);
}

/**
 * metricsToken: with METRICS_TOKEN set, /metrics also accepts `Authorization: Bearer <METRICS_TOKEN>`
 * (what Prometheus's scrape config sends), since a scraper cannot sign in. Unset: a session is needed.
 */
export function metricsToken(env: Record<string, string | undefined> = process.env): string | null {
  const v = env.METRICS_TOKEN?.trim();
  if (!v) return null;
  if (v.length < 16) throw new Error("METRICS_TOKEN must have at least 16 characters");
  return v;
}
