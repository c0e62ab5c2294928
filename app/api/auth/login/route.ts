import { handle } from "@/lib/server/http";
import { login } from "@/lib/server/auth/login";
import { readJsonBody } from "@/lib/server/readJsonBody";
import { getDb } from "@/lib/server/webDb";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** POST /api/auth/login {username, password}: sets the session cookie; 401 with one generic message, 429 when throttled. */
export async function POST(req: Request): Promise<Response> {
  return handle(async () => login(await getDb(), req, await readJsonBody(req)));
}
