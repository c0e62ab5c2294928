import { handle, json, requireRole } from "@/lib/web/http/http";
import { parseBody } from "@/lib/web/auth/body";
import { createUser, listUsers } from "@/lib/web/auth/users";
import { readJsonBody } from "@/lib/web/http/readJsonBody";
import { getDb } from "@/lib/web/data/webDb";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** GET /api/admin/users: every dashboard user (admin). */
export async function GET(req: Request): Promise<Response> {
  return handle(async () => {
    await requireRole(req, "admin");
    return json(await listUsers(await getDb()));
  });
}

/** POST /api/admin/users {username, password, role}: creates a user (admin). */
export async function POST(req: Request): Promise<Response> {
  return handle(async () => {
    await requireRole(req, "admin");
    return json(await createUser(await getDb(), parseBody(apiRoute("POST /api/admin/users").body, await readJsonBody(req))), 201);
  });
}
