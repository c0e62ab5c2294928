import { z } from "zod";
import { handle, json, parseQuery, runNotFound, stepParam } from "@/lib/server/http";
import { getCapacityWhatIf } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({ cf: z.coerce.number().positive().max(64), step: stepParam.optional() });

/** GET /api/runs/{runId}/capacity?cf=1.25&step=N: predicted drops per MoE layer at a capacity factor. */
export async function GET(req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    return json((await getCapacityWhatIf(runId, q.cf, q.step)) ?? runNotFound(runId));
  });
}
