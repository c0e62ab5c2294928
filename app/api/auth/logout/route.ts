import { handle } from "@/lib/server/http";
import { logout } from "@/lib/server/auth/login";
import { getDb } from "@/lib/server/webDb";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** POST /api/auth/logout: deletes the session and clears the cookie. */
export async function POST(req: Request): Promise<Response> {
  return handle(async () => logout(await getDb(), req));
}
