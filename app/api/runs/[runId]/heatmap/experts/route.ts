import { createHash } from "node:crypto";
import { z } from "zod";
import { NotFound } from "@/lib/analysis/errors";
import type { ExpertHeatmapDto } from "@/lib/dto";
import { handle, parseQuery, stepParam, type RunRouteContext } from "@/lib/server/http";
import { getExpertHeatmap } from "@/lib/server/queries";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const Query = z.object({
  layer: z.coerce.number().int().min(1),
  from: stepParam.optional(),
  to: stepParam.optional(),
  maxColumns: z.coerce.number().int().min(1).max(5_000).optional(),
});

/**
 * The serialized body and its ETag per answer object. On SQLite getExpertHeatmap returns the same object
 * while the database is unchanged (its cache), so a repeated request skips serializing (~0.6 ms for
 * 400 columns x 64 experts) and a client holding the ETag gets 304 without a body.
 *
 * Compression is left to Next (it gzips route responses when the client accepts it): Next 16 drops a
 * route handler's own Content-Encoding header (send-response.js, FORBIDDEN_HEADERS), so a body gzipped
 * here once would reach clients undeclared. The ETag is weak for the same reason: the bytes on the wire
 * may be a compressed form of the body it names.
 */
const encoded = new WeakMap<ExpertHeatmapDto, { body: string; etag: string }>();

function encode(dto: ExpertHeatmapDto): { body: string; etag: string } {
  let e = encoded.get(dto);
  if (!e) {
    const body = JSON.stringify(dto);
    e = { body, etag: `W/"${createHash("sha1").update(body).digest("base64url")}"` };
    encoded.set(dto, e);
  }
  return e;
}

/** matches: whether an If-None-Match header names this ETag (weak comparison, lists and "*" included). */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || opaque(t) === opaque(etag));
}

/**
 * GET /api/runs/{runId}/heatmap/experts: experts x steps for one MoE layer, downsampled (max kept).
 * Revalidated, not stored: `cache-control: no-cache` with an ETag of the body (the data is live).
 */
export function GET(req: Request, ctx: RunRouteContext): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    const dto = await getExpertHeatmap(runId, q.layer, { fromStep: q.from, toStep: q.to, maxColumns: q.maxColumns });
    if (dto === null) throw new NotFound(`run ${runId} does not exist or layer ${q.layer} is not one of its MoE layers`, "layer");
    const { body, etag } = encode(dto);
    const headers = { "content-type": "application/json", "cache-control": "no-cache", etag };
    if (matches(req.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
    return new Response(body, { status: 200, headers });
  });
}
