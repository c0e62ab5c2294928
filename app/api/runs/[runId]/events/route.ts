import { noQuery, runRoute } from "@/lib/web/http/http";
import { getEvents } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/events: OOM, crash and finish events. */
export const GET = runRoute(noQuery, (runId) => getEvents(runId));
