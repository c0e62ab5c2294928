import { noQuery, runRoute } from "@/lib/web/http/http";
import { getRun } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}: configuration, layers, derived sizes and events of one run. */
export const GET = runRoute(noQuery, (runId) => getRun(runId));
