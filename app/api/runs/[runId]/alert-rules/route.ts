import { handle, json, requireRole, runNotFound } from "@/lib/web/http/http";
import { getAlertRules, putAlertRules } from "@/lib/web/data/alertQueries";
import { getLiveState } from "@/lib/web/data/queries";
import { readJsonBody } from "@/lib/web/http/readJsonBody";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/alert-rules: the run's alert rules (defaults, its overrides, effective). */
export async function GET(_req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    if (!(await getLiveState(runId))) runNotFound(runId);
    return json(await getAlertRules(runId));
  });
}

/** PUT /api/runs/{runId}/alert-rules: replace the run's overrides (editor). */
export async function PUT(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    await requireRole(req, "editor");
    const { runId } = await ctx.params;
    if (!(await getLiveState(runId))) runNotFound(runId);
    return json(await putAlertRules(runId, await readJsonBody(req)));
  });
}
