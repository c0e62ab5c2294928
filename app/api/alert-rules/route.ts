import { handle, json, requireRole } from "@/lib/web/http/http";
import { getAlertRules, putAlertRules } from "@/lib/web/data/alertQueries";
import { readJsonBody } from "@/lib/web/http/readJsonBody";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/alert-rules: global alert rules (defaults, overrides, effective). */
export async function GET(): Promise<Response> {
  return handle(async () => json(await getAlertRules(null)));
}

/** PUT /api/alert-rules: replace the global overrides, e.g. {"ep-imbalance-high": {"threshold": 1.8}}. */
export async function PUT(req: Request): Promise<Response> {
  return handle(async () => {
    await requireRole(req, "editor");
    return json(await putAlertRules(null, await readJsonBody(req)));
  });
}
