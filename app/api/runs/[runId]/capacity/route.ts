import { runRoute } from "@/lib/web/http/http";
import { getCapacityWhatIf } from "@/lib/web/data/queries";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/capacity?cf=1.25&step=N: predicted drops per MoE layer at a capacity factor. */
export const GET = runRoute(apiRoute("GET /api/runs/{runId}/capacity").query, (runId, q) =>
  getCapacityWhatIf(runId, q.cf, q.step),
);
