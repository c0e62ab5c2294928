import { runRoute } from "@/lib/web/http/http";
import { getLayerHeatmap } from "@/lib/web/data/queries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/heatmap/layers: MoE layers x experts global load at one step. */
export const GET = runRoute(apiRoute("GET /api/runs/{runId}/heatmap/layers").query, (runId, q) => getLayerHeatmap(runId, q.step));
