import { noQuery, runRoute } from "@/lib/server/http";
import { listAlerts } from "@/lib/server/alertQueries";
import { getLiveState } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/alerts: the run's alert episodes, firing first. */
export const GET = runRoute(noQuery, async (runId) => ((await getLiveState(runId)) ? listAlerts({ runId }) : null));
