import { runRoute } from "@/lib/web/http/http";
import { getAggregates } from "@/lib/web/data/queries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/aggregates?step=N: every MoE layer's cross-rank aggregate at step N. */
export const GET = runRoute(apiRoute("GET /api/runs/{runId}/aggregates").query, (runId, q) => getAggregates(runId, q.step));
