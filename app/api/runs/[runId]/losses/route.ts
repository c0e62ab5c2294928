import { z } from "zod";
import { handle, json, layersParam, parseQuery, runNotFound, stepParam } from "@/lib/server/http";
import { getLossSeries } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({
  layers: layersParam.optional(),
  from: stepParam.optional(),
  to: stepParam.optional(),
  maxPoints: z.coerce.number().int().min(1).max(5_000).optional(),
});

/** GET /api/runs/{runId}/losses: per-layer loss series, downsampled on the server (min/max kept). */
export async function GET(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    const r = await getLossSeries(runId, { layers: q.layers, fromStep: q.from, toStep: q.to, maxPoints: q.maxPoints });
    return json(r ?? runNotFound(runId));
  });
}
