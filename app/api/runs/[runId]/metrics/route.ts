import { runRoute } from "@/lib/web/http/http";
import { getStepMetrics } from "@/lib/web/data/queries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/metrics?step=N: every MoE layer's imbalance metrics at a step. */
export const GET = runRoute(apiRoute("GET /api/runs/{runId}/metrics").query, (runId, q) => getStepMetrics(runId, q.step));
