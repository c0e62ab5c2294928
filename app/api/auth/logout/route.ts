import { handle } from "@/lib/web/http/http";
import { logout } from "@/lib/web/auth/login";
import { getDb } from "@/lib/web/data/webDb";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** POST /api/auth/logout: deletes the session and clears the cookie. */
export async function POST(req: Request): Promise<Response> {
  return handle(async () => logout(await getDb(), req));
}
