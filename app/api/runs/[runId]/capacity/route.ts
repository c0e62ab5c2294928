import { z } from "zod";
import { runRoute, stepParam } from "@/lib/web/http/http";
import { getCapacityWhatIf } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/capacity?cf=1.25&step=N: predicted drops per MoE layer at a capacity factor. */
export const GET = runRoute(z.object({ cf: z.coerce.number().positive().max(64), step: stepParam.optional() }), (runId, q) =>
  getCapacityWhatIf(runId, q.cf, q.step),
);
