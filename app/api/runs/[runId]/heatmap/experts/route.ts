import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
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
 * The serialized body, its gzip form and its ETag per answer object. On SQLite getExpertHeatmap returns the
 * same object while the database is unchanged (its cache), so a repeated request neither serializes
 * (~0.6 ms for 400 columns x 64 experts) nor compresses again (Next's own gzip of the same 114 KB cost
 * ~5 ms per request on the loaded bench machine), and a client holding the ETag gets 304 without a body.
 */
interface Encoded {
  body: string;
  etag: string;
  gzip?: Buffer;
}
/** Bodies below this are sent as they are (compressing saves less than a packet). */
const GZIP_FROM_BYTES = 1024;
const encoded = new WeakMap<ExpertHeatmapDto, Encoded>();

function encode(dto: ExpertHeatmapDto): Encoded {
  let e = encoded.get(dto);
  if (!e) {
    const body = JSON.stringify(dto);
    e = { body, etag: `"${createHash("sha1").update(body).digest("base64url")}"` };
    encoded.set(dto, e);
  }
  return e;
}

/** acceptsGzip: whether Accept-Encoding allows gzip (a "gzip;q=0" refuses it). */
function acceptsGzip(acceptEncoding: string | null): boolean {
  return (acceptEncoding ?? "").split(",").some((t) => {
    const [name, ...params] = t.trim().toLowerCase().split(";");
    return name.trim() === "gzip" && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
  });
}

/** matches: whether an If-None-Match header names this strong ETag (weak forms and lists included). */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * GET /api/runs/{runId}/heatmap/experts: experts x steps for one MoE layer, downsampled (max kept).
 * Revalidated, not stored: `cache-control: no-cache` with an ETag of the body (the data is live); gzip
 * when the client accepts it.
 */
export function GET(req: Request, ctx: RunRouteContext): Promise<Response> {
  return handle(async () => {
    const { runId } = await ctx.params;
    const q = parseQuery(req.url, Query);
    const dto = await getExpertHeatmap(runId, q.layer, { fromStep: q.from, toStep: q.to, maxColumns: q.maxColumns });
    if (dto === null) throw new NotFound(`run ${runId} does not exist or layer ${q.layer} is not one of its MoE layers`, "layer");
    const e = encode(dto);
    const gzip = e.body.length >= GZIP_FROM_BYTES && acceptsGzip(req.headers.get("accept-encoding"));
    // Each representation has its own strong ETag. no-transform: the body is compressed here once per
    // answer, so Next must not compress it again per request.
    const etag = gzip ? `${e.etag.slice(0, -1)}-gz"` : e.etag;
    const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "no-cache, no-transform", etag, vary: "accept-encoding" };
    if (matches(req.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
    if (!gzip) return new Response(e.body, { status: 200, headers });
    e.gzip ??= gzipSync(e.body, { level: 6 });
    return new Response(new Uint8Array(e.gzip), { status: 200, headers: { ...headers, "content-encoding": "gzip" } });
  });
}
