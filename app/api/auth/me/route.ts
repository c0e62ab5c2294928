import { handle, json } from "@/lib/web/http/http";
import { authFromCookie } from "@/lib/web/auth/request";
import { getDb } from "@/lib/web/data/webDb";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/auth/me: {auth: "on"|"off", user: {username, role} | null}. */
export async function GET(req: Request): Promise<Response> {
  return handle(async () => {
    const a = await authFromCookie(getDb, req.headers.get("cookie"));
    return json({ auth: a.mode, user: a.user ? { username: a.user.username, role: a.user.role } : null });
  });
}
