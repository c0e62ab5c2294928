import { runRoute } from "@/lib/web/http/http";
import { getLossSeries } from "@/lib/web/data/queries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** GET /api/runs/{runId}/losses: per-layer loss series, downsampled on the server (min/max kept). */
export const GET = runRoute(apiRoute("GET /api/runs/{runId}/losses").query, (runId, q) =>
  getLossSeries(runId, { layers: q.layers, fromStep: q.from, toStep: q.to, maxPoints: q.maxPoints }),
);
