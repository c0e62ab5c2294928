/**
 * GET /api/runs/{runId}/heatmap/experts over HTTP, written once for the two servers that answer it: the Next
 * route (app/api/runs/[runId]/heatmap/experts/route.ts, what `next dev` and other deployments use) and the
 * dashboard server's fast path (lib/web/http/dashboardServer.ts, what `moe-telemetry serve` runs), so both parse the
 * same query, name the same bad parameter and answer the same body, ETag and cache headers.
 *
 * Each answer object is serialized once: on SQLite getExpertHeatmap returns the same object while the
 * database is unchanged (expertHeatmapSqlite.ts's cache), so a repeated request skips serializing (~0.6 ms
 * for 400 columns x 64 experts), hashing and compressing, and a client holding the ETag gets 304. The
 * ETag is weak: the bytes on the wire may be a compressed form of the body it names.
 */
import { createHash } from "node:crypto";
import { NotFound } from "../../analysis/errors";
import type { ExpertHeatmapDto } from "../../dto";
import { apiRoute } from "./apiRoutes";
import { parseQuery } from "./http";
import { gzipOnce } from "./syncGzip";
import { getExpertHeatmap } from "../data/queries";

/** EncodedHeatmap: one answer as JSON bytes with its ETag; the gzip form is made on first need and kept. */
export class EncodedHeatmap {
  readonly body: Buffer;
  readonly etag: string;
  private gz: Buffer | null = null;

  constructor(dto: ExpertHeatmapDto) {
    this.body = Buffer.from(JSON.stringify(dto));
    this.etag = `W/"${createHash("sha1").update(this.body).digest("base64url")}"`;
  }

  /** gzipped: the body gzipped once per answer, as the dashboard server gzips a body Next writes in one piece. */
  gzipped(): Buffer {
    return (this.gz ??= gzipOnce(this.body));
  }
}

const encoded = new WeakMap<ExpertHeatmapDto, EncodedHeatmap>();

function encode(dto: ExpertHeatmapDto): EncodedHeatmap {
  let e = encoded.get(dto);
  if (!e) encoded.set(dto, (e = new EncodedHeatmap(dto)));
  return e;
}

/**
 * expertHeatmapAnswer reads the heatmap a request asks for (`url`: its absolute URL) and returns it encoded.
 * Throws InvalidInput naming the bad query parameter (400) or NotFound for an unknown run or layer (404).
 */
export async function expertHeatmapAnswer(runId: string, url: string): Promise<EncodedHeatmap> {
  const q = parseQuery(url, apiRoute("GET /api/runs/{runId}/heatmap/experts").query);
  const dto = await getExpertHeatmap(runId, q.layer, { fromStep: q.from, toStep: q.to, maxColumns: q.maxColumns });
  if (dto === null) throw new NotFound(`run ${runId} does not exist or layer ${q.layer} is not one of its MoE layers`, "layer");
  return encode(dto);
}

/** expertHeatmapHeaders: revalidated, not stored (`no-cache` with the ETag): the data is live. */
export function expertHeatmapHeaders(etag: string): Record<string, string> {
  return { "content-type": "application/json", "cache-control": "no-cache", etag };
}

/** notModified: whether an If-None-Match header names this ETag (weak comparison, lists and "*" included). */
export function notModified(ifNoneMatch: string | null | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || opaque(t) === opaque(etag));
}
