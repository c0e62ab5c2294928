import { z } from "zod";
import { runRoute, stepParam } from "@/lib/web/http/http";
import { getLayerHeatmap } from "@/lib/web/data/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** GET /api/runs/{runId}/heatmap/layers: MoE layers x experts global load at one step. */
export const GET = runRoute(z.object({ step: stepParam.optional() }), (runId, q) => getLayerHeatmap(runId, q.step));
