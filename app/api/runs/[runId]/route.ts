import { handle, json, runNotFound } from "@/lib/server/http";
import { getRun } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}: configuration, layers, derived sizes and events of one run. */
export async function GET(_req: Request, ctx: { params: Promise<{ runId: string }> }): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    return json((await getRun(runId)) ?? runNotFound(runId));
  });
}
