import { handle, json, runNotFound } from "@/lib/server/http";
import { listAlerts } from "@/lib/server/alertQueries";
import { getLiveState } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/alerts: the run's alert episodes, firing first. */
export async function GET(_req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    if (!(await getLiveState(runId))) runNotFound(runId);
    return json(await listAlerts({ runId }));
  });
}
