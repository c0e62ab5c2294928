/** The session cookie: reading it from a request and writing Set-Cookie headers. */
import { cookieSecureMode, SESSION_COOKIE } from "./config";

/** readCookie returns one cookie's value from a Cookie header. */
export function readCookie(cookieHeader: string | null, name = SESSION_COOKIE): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return null;
}

/**
 * isSecureRequest: whether the browser reached us over https — directly, or through a TLS proxy that
 * sets X-Forwarded-Proto: https. COOKIE_SECURE=on/off overrides the guess.
 */
export function isSecureRequest(requestUrl: string, headers: Headers, env: Record<string, string | undefined> = process.env): boolean {
  const mode = cookieSecureMode(env);
  if (mode !== "auto") return mode === "on";
  const forwarded = headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  return forwarded === "https" || new URL(requestUrl).protocol === "https:";
}

/** sessionCookie: HttpOnly (no script can read it), SameSite=Lax (not sent on cross-site posts), Path=/. */
export function sessionCookie(secret: string, expiresAtMs: number, secure: boolean): string {
  const maxAge = Math.max(0, Math.floor((expiresAtMs - Date.now()) / 1000));
  return `${SESSION_COOKIE}=${secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? "; Secure" : ""}`;
}

/** clearedSessionCookie removes the cookie (logout). */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? "; Secure" : ""}`;
}
