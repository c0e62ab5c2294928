import { z } from "zod";
import { NotFound } from "@/lib/analysis/errors";
import { handle, json, parseQuery, stepParam } from "@/lib/server/http";
import { getExpertHeatmap } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({
  layer: z.coerce.number().int().min(1),
  from: stepParam.optional(),
  to: stepParam.optional(),
  maxColumns: z.coerce.number().int().min(1).max(5_000).optional(),
});

/** GET /api/runs/{runId}/heatmap/experts: experts x steps for one MoE layer, downsampled (max kept). */
export async function GET(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    const r = await getExpertHeatmap(runId, q.layer, { fromStep: q.from, toStep: q.to, maxColumns: q.maxColumns });
    if (!r) throw new NotFound(`run ${runId} does not exist or layer ${q.layer} is not one of its MoE layers`, "layer");
    return json(r);
  });
}
