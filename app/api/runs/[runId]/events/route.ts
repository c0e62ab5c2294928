import { handle, json, runNotFound } from "@/lib/server/http";
import { getEvents } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/events: OOM, crash and finish events. */
export async function GET(_req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    return json((await getEvents(runId)) ?? runNotFound(runId));
  });
}
