import { handle, json } from "@/lib/web/http/http";
import { setup } from "@/lib/web/auth/login";
import { dashboardAuthMode } from "@/lib/web/auth/config";
import { countUsers } from "@/lib/web/auth/users";
import { readJsonBody } from "@/lib/web/http/readJsonBody";
import { getDb } from "@/lib/web/data/webDb";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/auth/setup: whether the first admin still has to be created. */
export async function GET(): Promise<Response> {
  return handle(async () => json({ auth: dashboardAuthMode(), needsSetup: dashboardAuthMode() === "on" && (await countUsers(await getDb())) === 0 }));
}

/** POST /api/auth/setup {code, username, password}: creates the first admin (only while there is no user) and signs in. */
export async function POST(req: Request): Promise<Response> {
  return handle(async () => setup(await getDb(), req, await readJsonBody(req)));
}
