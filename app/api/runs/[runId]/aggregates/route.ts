import { z } from "zod";
import { handle, json, parseQuery, runNotFound, stepParam } from "@/lib/server/http";
import { getAggregates } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({ step: stepParam });

/** GET /api/runs/{runId}/aggregates?step=N: every MoE layer's cross-rank aggregate at step N. */
export async function GET(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    return json((await getAggregates(runId, q.step)) ?? runNotFound(runId));
  });
}
