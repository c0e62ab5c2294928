import { InvalidInput } from "@/lib/analysis/errors";
import { handle, json, parseQuery } from "@/lib/web/http/http";
import { compareRuns } from "@/lib/web/data/compareQueries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** GET /api/compare?runs=a,b&layer=&alignBy=step|tokens: per-layer aux loss, MaxVio and EP imbalance of the runs, and their config diff. */
export function GET(req: Request): Promise<Response> {
  return handle(async () => {
    const q = parseQuery(req.url, apiRoute("GET /api/compare").query);
    if (q.runs.length < 1 || q.runs.length > 8) throw new InvalidInput("query parameter runs: give 1 to 8 run ids", "runs");
    return json(await compareRuns(q.runs, { layer: q.layer, alignBy: q.alignBy, maxPoints: q.maxPoints }));
  });
}
