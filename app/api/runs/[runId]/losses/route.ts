import { z } from "zod";
import { layersParam, runRoute, stepParam } from "@/lib/web/http/http";
import { getLossSeries } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({
  layers: layersParam.optional(),
  from: stepParam.optional(),
  to: stepParam.optional(),
  maxPoints: z.coerce.number().int().min(1).max(5_000).optional(),
});

/** GET /api/runs/{runId}/losses: per-layer loss series, downsampled on the server (min/max kept). */
export const GET = runRoute(Query, (runId, q) =>
  getLossSeries(runId, { layers: q.layers, fromStep: q.from, toStep: q.to, maxPoints: q.maxPoints }),
);
