import { errorResponse } from "@/lib/web/http/http";
import { renderPrometheusMetrics } from "@/lib/web/http/prometheusMetrics";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /metrics: Prometheus text format (firing alerts, EP imbalance, MaxVio, memory ratio). */
export async function GET(): Promise<Response> {
  try {
    const m = await renderPrometheusMetrics();
    return new Response(m.body, { headers: { "content-type": m.contentType, "cache-control": "no-store" } });
  } catch (err) {
    return errorResponse(err);
  }
}
