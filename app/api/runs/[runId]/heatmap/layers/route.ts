import { z } from "zod";
import { handle, json, parseQuery, runNotFound, stepParam } from "@/lib/server/http";
import { getLayerHeatmap } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({ step: stepParam.optional() });

/** GET /api/runs/{runId}/heatmap/layers: MoE layers x experts global load at one step. */
export async function GET(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    return json((await getLayerHeatmap(runId, q.step)) ?? runNotFound(runId));
  });
}
