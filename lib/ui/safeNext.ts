/**
 * safeNext keeps a post-login redirect on this site: `next` is resolved with the URL parser against the
 * dashboard's own origin, exactly as the browser will resolve it, and only a same-origin path survives
 * ("/runs/x?step=3"); anything else falls back to "/", so /login?next= cannot bounce a user to another site.
 * Prefix checks on the raw string are not enough: browsers strip tab, CR and LF anywhere in a URL and read
 * "\" as "/", so "/\t/evil.example" and "/\\evil.example" are the protocol-relative "//evil.example".
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/")) return "/";
  // Any control character or backslash is refused outright: no legitimate dashboard link holds one.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return "/";
  const base = "http://dashboard.invalid";
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return "/";
  }
  if (url.origin !== base) return "/";
  const path = url.pathname + url.search + url.hash;
  if (!path.startsWith("/") || path.startsWith("//")) return "/";
  if (url.pathname.startsWith("/login") || url.pathname.startsWith("/setup")) return "/";
  return path;
}
