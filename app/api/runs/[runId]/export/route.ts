import { exportRun, findRunForExport } from "@/lib/web/data/exportRun";
import { handle, parseQuery, type RunRouteContext } from "@/lib/web/http/http";
import { getDb } from "@/lib/web/data/webDb";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** GET /api/runs/{runId}/export?format=csv|json&raw=1|series=1: the run's aggregates (or raw per-rank counts, or in CSV its named series) as a download. */
export async function GET(req: Request, ctx: RunRouteContext): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, apiRoute("GET /api/runs/{runId}/export").query);
    const db = await getDb();
    const run = await findRunForExport(db, runId);
    const chunks = exportRun(db, run, { format: q.format, raw: q.raw, series: q.series });
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await chunks.return(undefined);
      },
    });
    const file = `${run.runKey.replace(/[^A-Za-z0-9._-]/g, "_")}${q.raw ? "-counts" : q.series && q.format === "csv" ? "-series" : ""}.${q.format}`;
    return new Response(body, {
      headers: {
        "content-type": q.format === "csv" ? "text/csv; charset=utf-8" : "application/json",
        "content-disposition": `attachment; filename="${file}"`,
        "cache-control": "no-store",
      },
    });
  });
}
