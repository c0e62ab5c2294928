import { noQuery, runRoute } from "@/lib/web/http/http";
import { listAlerts } from "@/lib/web/data/alertQueries";
import { getLiveState } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/alerts: the run's alert episodes, firing first. */
export const GET = runRoute(noQuery, async (runId) => ((await getLiveState(runId)) ? listAlerts({ runId }) : null));
