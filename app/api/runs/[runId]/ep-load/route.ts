import { NotFound } from "@/lib/analysis/errors";
import { runRoute } from "@/lib/web/http/http";
import { getEpLoad } from "@/lib/web/data/queries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/ep-load?step=&layer=: tokens received per EP rank in each dispatch group. */
export const GET = runRoute(
  apiRoute("GET /api/runs/{runId}/ep-load").query,
  (runId, q) => getEpLoad(runId, q.step, q.layer),
  (runId, q) => new NotFound(`run ${runId} does not exist or layer ${q.layer} is not one of its MoE layers`, "layer"),
);
