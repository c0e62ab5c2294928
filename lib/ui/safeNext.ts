/**
 * safeNext keeps a post-login redirect on this site: only a local path ("/runs/x?step=3") is followed;
 * anything else ("//evil.example", "https://...", "/\\evil") falls back to "/", so /login?next= cannot
 * be used to bounce a user to another site.
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (next.startsWith("/login") || next.startsWith("/setup")) return "/";
  return next;
}
