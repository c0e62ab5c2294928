import { z } from "zod";
import { NotFound } from "@/lib/analysis/errors";
import { handle, json, parseQuery } from "@/lib/web/http/http";
import { DEFAULT_POSTMORTEM_WINDOW, getOomPostMortem } from "@/lib/web/data/postmortemQueries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({ window: z.coerce.number().int().min(2).max(500).default(DEFAULT_POSTMORTEM_WINDOW) });

/** GET /api/runs/{runId}/postmortem/{eventId}?window=: why the rank of an OOM event died, from the last `window` steps. */
export function GET(req: Request, ctx: { params: Promise<{ runId: string; eventId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId, eventId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    const dto = await getOomPostMortem(runId, eventId, q.window);
    if (!dto) throw new NotFound(`run ${runId} has no OOM event ${eventId}`, "eventId");
    return json(dto);
  });
}
