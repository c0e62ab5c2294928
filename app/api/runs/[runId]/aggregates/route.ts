import { z } from "zod";
import { runRoute, stepParam } from "@/lib/web/http/http";
import { getAggregates } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/aggregates?step=N: every MoE layer's cross-rank aggregate at step N. */
export const GET = runRoute(z.object({ step: stepParam }), (runId, q) => getAggregates(runId, q.step));
