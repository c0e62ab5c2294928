import { z } from "zod";
import { runRoute, stepParam } from "@/lib/web/http/http";
import { getImbalanceHeatmap } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({
  metric: z.enum(["maxVio", "cv", "entropy", "epImbalance"]).default("maxVio"),
  from: stepParam.optional(),
  to: stepParam.optional(),
  maxColumns: z.coerce.number().int().min(1).max(5_000).optional(),
});

/** GET /api/runs/{runId}/imbalance: MoE layers x steps of one imbalance metric with a cross-layer summary. */
export const GET = runRoute(Query, (runId, q) =>
  getImbalanceHeatmap(runId, q.metric, { fromStep: q.from, toStep: q.to, maxColumns: q.maxColumns }),
);
