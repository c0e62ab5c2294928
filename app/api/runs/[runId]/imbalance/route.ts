import { runRoute } from "@/lib/web/http/http";
import { getImbalanceHeatmap } from "@/lib/web/data/queries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** GET /api/runs/{runId}/imbalance: MoE layers x steps of one imbalance metric with a cross-layer summary. */
export const GET = runRoute(apiRoute("GET /api/runs/{runId}/imbalance").query, (runId, q) =>
  getImbalanceHeatmap(runId, q.metric, { fromStep: q.from, toStep: q.to, maxColumns: q.maxColumns }),
);
