import { handle, json, parseQuery } from "@/lib/web/http/http";
import { listAlerts } from "@/lib/web/data/alertQueries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** GET /api/alerts: alert episodes across runs, firing first. */
export async function GET(req: Request): Promise<Response> {
  return handle(async () => {
    const q = parseQuery(req.url, apiRoute("GET /api/alerts").query);
    return json(await listAlerts({ runId: q.runId, status: q.status === "all" ? undefined : q.status, limit: q.limit }));
  });
}
