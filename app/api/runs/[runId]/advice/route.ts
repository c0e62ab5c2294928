import { z } from "zod";
import { handle, json, parseQuery, runNotFound, stepParam } from "@/lib/server/http";
import { getAdvice } from "@/lib/server/adviceQueries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({ step: stepParam.optional() });

/**
 * GET /api/runs/{runId}/advice: computed mitigations (ETP/EP, capacity factor, recomputation, router
 * levers, revert) with the exact flag changes, the rationale's numbers and validity; for launchers too.
 */
export async function GET(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    return json((await getAdvice(runId, q.step)) ?? runNotFound(runId));
  });
}
