import { z } from "zod";
import { NotFound } from "@/lib/analysis/errors";
import { handle, json, parseQuery, stepParam } from "@/lib/server/http";
import { getEpLoad } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({ step: stepParam, layer: z.coerce.number().int().min(1) });

/** GET /api/runs/{runId}/ep-load?step=&layer=: tokens received per EP rank in each dispatch group. */
export async function GET(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    const r = await getEpLoad(runId, q.step, q.layer);
    if (!r) throw new NotFound(`run ${runId} does not exist or layer ${q.layer} is not one of its MoE layers`, "layer");
    return json(r);
  });
}
