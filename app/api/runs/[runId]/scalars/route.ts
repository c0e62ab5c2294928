import { z } from "zod";
import { runRoute } from "@/lib/web/http/http";
import { getScalarSeries } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({
  names: z.string().optional().transform((s) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : undefined)),
  maxPoints: z.coerce.number().int().min(1).max(5_000).optional(),
});

/** GET /api/runs/{runId}/scalars?names=lm loss,load_balancing_loss: named series (imports), downsampled with min/max. */
export const GET = runRoute(Query, (runId, q) => getScalarSeries(runId, { names: q.names, maxPoints: q.maxPoints }));
