/**
 * bodyEncoding: the encoding Next's compression (the `compression` package with gzip, deflate and identity on
 * offer) would pick for an Accept-Encoding header, or undefined when the dashboard server leaves the request to
 * Next (a q-value, a wildcard, or deflate listed before gzip: rare, and Next negotiates them itself). Listed
 * encodings rank by order, identity counts as listed last, and br or zstd are not on offer.
 *
 * Shared by the dashboard server's own answers (cli/dashboardServer.ts, cli/staticAssets.ts), so both take
 * the same requests from Next and compress them the way Next would.
 */
export function bodyEncoding(acceptEncoding: string | undefined): "gzip" | "identity" | undefined {
  if (!acceptEncoding) return "identity";
  if (acceptEncoding.includes(";") || acceptEncoding.includes("*")) return undefined;
  for (const raw of acceptEncoding.split(",")) {
    const token = raw.trim().toLowerCase();
    if (token === "gzip" || token === "identity") return token;
    if (token === "deflate") return undefined;
  }
  return "identity";
}

/** acceptsBrotli: whether an Accept-Encoding header bodyEncoding accepts also lists br (without a q-value). */
export function acceptsBrotli(acceptEncoding: string | undefined): boolean {
  return !!acceptEncoding && acceptEncoding.split(",").some((t) => t.trim().toLowerCase() === "br");
}
