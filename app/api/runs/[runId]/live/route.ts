import { handle, runNotFound, sseResponse } from "@/lib/web/http/http";
import { getLiveState } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/live: Server-Sent Events, `update` with a LiveUpdateDto whenever the run changes. */
export async function GET(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    if (!(await getLiveState(runId))) runNotFound(runId);
    return sseResponse(req, async () => {
      const s = await getLiveState(runId);
      return s ? { key: s.version, data: s } : null;
    });
  });
}
