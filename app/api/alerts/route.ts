import { z } from "zod";
import { handle, json, parseQuery } from "@/lib/web/http/http";
import { listAlerts } from "@/lib/web/data/alertQueries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({
  status: z.enum(["firing", "resolved", "all"]).default("all"),
  runId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1_000).optional(),
});

/** GET /api/alerts: alert episodes across runs, firing first. */
export async function GET(req: Request): Promise<Response> {
  return handle(async () => {
    const q = parseQuery(req.url, Query);
    return json(await listAlerts({ runId: q.runId, status: q.status === "all" ? undefined : q.status, limit: q.limit }));
  });
}
