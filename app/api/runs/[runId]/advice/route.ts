import { z } from "zod";
import { runRoute, stepParam } from "@/lib/web/http/http";
import { getAdviceCached } from "@/lib/web/data/adviceCache";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * GET /api/runs/{runId}/advice: computed mitigations (ETP/EP, capacity factor, recomputation, router
 * levers, revert) with the exact flag changes, the rationale's numbers and validity; for launchers too.
 * Computed once per (run, step) and cached (lib/web/data/adviceCache.ts).
 */
export const GET = runRoute(z.object({ step: stepParam.optional() }), (runId, q) => getAdviceCached(runId, q.step));
