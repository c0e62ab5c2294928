import { expertHeatmapAnswer, expertHeatmapHeaders, notModified } from "@/lib/web/http/expertHeatmapHttp";
import { handle, type RunRouteContext } from "@/lib/web/http/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * GET /api/runs/{runId}/heatmap/experts: experts x steps for one MoE layer, downsampled (max kept).
 * `moe-telemetry serve` answers this path before Next (lib/web/http/dashboardServer.ts); this route serves it under
 * `next dev` and any other way of running the app. Both go through lib/web/http/expertHeatmapHttp.ts.
 *
 * Compression is left to Next here (it gzips route responses when the client accepts it): Next 16 drops a
 * route handler's own Content-Encoding header (send-response.js, FORBIDDEN_HEADERS), so a body gzipped
 * here once would reach clients undeclared.
 */
export function GET(req: Request, ctx: RunRouteContext): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const answer = await expertHeatmapAnswer(runId, req.url);
    const headers = expertHeatmapHeaders(answer.etag);
    if (notModified(req.headers.get("if-none-match"), answer.etag)) return new Response(null, { status: 304, headers });
    return new Response(new Uint8Array(answer.body), { status: 200, headers });
  });
}
