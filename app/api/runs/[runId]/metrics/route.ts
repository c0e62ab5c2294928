import { z } from "zod";
import { runRoute, stepParam } from "@/lib/web/http/http";
import { getStepMetrics } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/metrics?step=N: every MoE layer's imbalance metrics at a step. */
export const GET = runRoute(z.object({ step: stepParam.optional() }), (runId, q) => getStepMetrics(runId, q.step));
