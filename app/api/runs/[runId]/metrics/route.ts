import { z } from "zod";
import { handle, json, parseQuery, runNotFound, stepParam } from "@/lib/server/http";
import { getStepMetrics } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({ step: stepParam.optional() });

/** GET /api/runs/{runId}/metrics?step=N: every MoE layer's imbalance metrics at a step. */
export async function GET(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    return json((await getStepMetrics(runId, q.step)) ?? runNotFound(runId));
  });
}
