import { runRoute } from "@/lib/web/http/http";
import { getScalarSeries } from "@/lib/web/data/queries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";


/** GET /api/runs/{runId}/scalars?names=lm loss,load_balancing_loss: named series (imports), downsampled with min/max. */
export const GET = runRoute(apiRoute("GET /api/runs/{runId}/scalars").query, (runId, q) => getScalarSeries(runId, { names: q.names, maxPoints: q.maxPoints }));
