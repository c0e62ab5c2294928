import { handle, json, requireRole } from "@/lib/web/http/http";
import { parseBody } from "@/lib/web/auth/body";
import { createIngestToken, ingestAuthMode, listIngestTokens, listProjects } from "@/lib/store/ingestTokens";
import { readJsonBody } from "@/lib/web/http/readJsonBody";
import { getDb } from "@/lib/web/data/webDb";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** GET /api/admin/tokens: {ingestAuth, projects, tokens} (admin; never a secret). */
export async function GET(req: Request): Promise<Response> {
  return handle(async () => {
    await requireRole(req, "admin");
    const db = await getDb();
    return json({ ingestAuth: ingestAuthMode(), projects: await listProjects(db), tokens: await listIngestTokens(db) });
  });
}

/** POST /api/admin/tokens {projectName, name}: creates a token (and the project if new); the secret is in this answer only. */
export async function POST(req: Request): Promise<Response> {
  return handle(async () => {
    const user = await requireRole(req, "admin");
    const body = parseBody(apiRoute("POST /api/admin/tokens").body, await readJsonBody(req));
    return json(await createIngestToken(await getDb(), { ...body, createdBy: user.username }), 201);
  });
}
