import { runRoute } from "@/lib/web/http/http";
import { getAdviceCached } from "@/lib/web/data/adviceCache";
import { apiRoute } from "@/lib/web/http/apiRoutes";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * GET /api/runs/{runId}/advice: computed mitigations (ETP/EP, capacity factor, recomputation, router
 * levers, revert) with the exact flag changes, the rationale's numbers and validity; for launchers too.
 * Computed once per (run, step) and cached (lib/web/data/adviceCache.ts).
 */
export const GET = runRoute(apiRoute("GET /api/runs/{runId}/advice").query, (runId, q) => getAdviceCached(runId, q.step));
