import { NotFound } from "@/lib/analysis/errors";
import { handle, json } from "@/lib/web/http/http";
import { listDeliveries } from "@/lib/web/data/alertQueries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/alerts/{alertId}/deliveries: the webhook delivery log of one alert. */
export async function GET(_req: Request, ctx: { params: Promise<{ alertId: string }> }): Promise<Response> {
  return handle(async () => {
    const { alertId } = await ctx.params;
    const r = await listDeliveries(alertId);
    if (!r) throw new NotFound(`alert ${alertId} does not exist`, "alertId");
    return json(r);
  });
}
