import { NotFound } from "@/lib/analysis/errors";
import { handle, json, parseQuery } from "@/lib/web/http/http";
import { getOomPostMortem } from "@/lib/web/data/postmortemQueries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** GET /api/runs/{runId}/postmortem/{eventId}?window=: why the rank of an OOM event died, from the last `window` steps. */
export function GET(req: Request, ctx: { params: Promise<{ runId: string; eventId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId, eventId } = await ctx.params;
    const q = parseQuery(req.url, apiRoute("GET /api/runs/{runId}/postmortem/{eventId}").query);
    const dto = await getOomPostMortem(runId, eventId, q.window);
    if (!dto) throw new NotFound(`run ${runId} has no OOM event ${eventId}`, "eventId");
    return json(dto);
  });
}
