/**
 * CSRF defence for state-changing requests: the browser's own statement of where a request comes from.
 * Following OWASP's CSRF cheat sheet, the Origin header is compared with the origin this server is
 * reached at (the Host header, or X-Forwarded-Host/-Proto set by a TLS proxy, or DASHBOARD_URL);
 * when a browser sends no Origin, Sec-Fetch-Site (Fetch Metadata) decides. Together with SameSite=Lax
 * session cookies this keeps other sites from making a signed-in browser change anything.
 */

/** SAFE_METHODS never change state and are not checked. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** isMutation: the methods that must pass the origin check. */
export function isMutation(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** OriginVerdict: ok, or the reason to refuse, written for the person reading the 403. */
export type OriginVerdict = { ok: true } | { ok: false; reason: string };

/**
 * requestOrigin: the origin the browser used to reach us — the Host header (or a TLS proxy's
 * X-Forwarded-Host/-Proto) rather than the server's own idea of its URL, which Next normalizes
 * (127.0.0.1 becomes localhost, a different cookie host).
 */
export function requestOrigin(requestUrl: string, headers: Headers): string {
  const url = new URL(requestUrl);
  const first = (v: string | null) => v?.split(",")[0]?.trim() || null;
  const proto = first(headers.get("x-forwarded-proto")) ?? url.protocol.replace(/:$/, "");
  const host = first(headers.get("x-forwarded-host")) ?? headers.get("host") ?? url.host;
  return `${proto}://${host}`;
}

/** expectedOrigins: the origins under which this request reached the dashboard. */
export function expectedOrigins(requestUrl: string, headers: Headers, publicUrl?: string): Set<string> {
  const url = new URL(requestUrl);
  const out = new Set<string>();
  out.add(requestOrigin(requestUrl, headers).toLowerCase());
  out.add(url.origin.toLowerCase());
  if (publicUrl) {
    try {
      out.add(new URL(publicUrl).origin.toLowerCase());
    } catch {
      // DASHBOARD_URL is validated at startup elsewhere; a bad one just adds nothing here.
    }
  }
  return out;
}

/**
 * checkOrigin decides whether a state-changing request may proceed. Requests without Origin and without
 * Sec-Fetch-Site are not from a browser (curl, scripts): a CSRF attack needs a victim's browser, and
 * every current browser sends at least one of the two on such requests, so these pass.
 */
export function checkOrigin(method: string, requestUrl: string, headers: Headers, publicUrl?: string): OriginVerdict {
  if (!isMutation(method)) return { ok: true };
  const origin = headers.get("origin");
  if (origin && origin !== "null") {
    if (expectedOrigins(requestUrl, headers, publicUrl).has(origin.toLowerCase())) return { ok: true };
    return { ok: false, reason: `cross-origin request refused: Origin ${origin} is not this dashboard (set DASHBOARD_URL if it is served under another address)` };
  }
  const site = headers.get("sec-fetch-site");
  if (origin === "null") return { ok: false, reason: "cross-origin request refused: the request has an opaque Origin (null)" };
  if (site === null || site === "same-origin" || site === "none") return { ok: true };
  return { ok: false, reason: `cross-origin request refused: Sec-Fetch-Site is ${site}` };
}
