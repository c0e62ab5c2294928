import { z } from "zod";
import { NotFound } from "@/lib/analysis/errors";
import { runRoute, stepParam } from "@/lib/server/http";
import { getExpertHeatmap } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({
  layer: z.coerce.number().int().min(1),
  from: stepParam.optional(),
  to: stepParam.optional(),
  maxColumns: z.coerce.number().int().min(1).max(5_000).optional(),
});

/** GET /api/runs/{runId}/heatmap/experts: experts x steps for one MoE layer, downsampled (max kept). */
export const GET = runRoute(
  Query,
  (runId, q) => getExpertHeatmap(runId, q.layer, { fromStep: q.from, toStep: q.to, maxColumns: q.maxColumns }),
  (runId, q) => new NotFound(`run ${runId} does not exist or layer ${q.layer} is not one of its MoE layers`, "layer"),
);
