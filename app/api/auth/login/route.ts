import { handle } from "@/lib/web/http/http";
import { login } from "@/lib/web/auth/login";
import { readJsonBody } from "@/lib/web/http/readJsonBody";
import { getDb } from "@/lib/web/data/webDb";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** POST /api/auth/login {username, password}: sets the session cookie; 401 with one generic message, 429 when throttled. */
export async function POST(req: Request): Promise<Response> {
  return handle(async () => login(await getDb(), req, await readJsonBody(req)));
}
