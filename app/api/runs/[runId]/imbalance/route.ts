import { z } from "zod";
import { handle, json, parseQuery, runNotFound, stepParam } from "@/lib/server/http";
import { getImbalanceHeatmap } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({
  metric: z.enum(["maxVio", "cv", "entropy", "epImbalance"]).default("maxVio"),
  from: stepParam.optional(),
  to: stepParam.optional(),
  maxColumns: z.coerce.number().int().min(1).max(5_000).optional(),
});

/** GET /api/runs/{runId}/imbalance: MoE layers x steps of one imbalance metric with a cross-layer summary. */
export async function GET(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    const r = await getImbalanceHeatmap(runId, q.metric, { fromStep: q.from, toStep: q.to, maxColumns: q.maxColumns });
    return json(r ?? runNotFound(runId));
  });
}
