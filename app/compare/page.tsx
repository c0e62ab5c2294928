import type { Metadata } from "next";
import Link from "next/link";
import { StatusBadge } from "@/components/Badges";
import { CompareChart } from "@/components/CompareChart";
import { compareRuns } from "@/lib/web/data/compareQueries";
import { listRuns } from "@/lib/web/data/queries";
import { commonLayers } from "@/lib/ui/prepareCompareChart";
import { prepareConfigDiff } from "@/lib/ui/prepareConfigDiff";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Compare runs" };

type SearchParams = Record<string, string | string[] | undefined>;

/** selectedRuns reads ?runs=a,b and repeated ?run=a&run=b (what the picker form submits). */
function selectedRuns(sp: SearchParams): string[] {
  const all = [sp.runs, sp.run].flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
  return [...new Set(all.flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean))].slice(0, 8);
}

function one(sp: SearchParams, k: string): string | undefined {
  const v = sp[k];
  return Array.isArray(v) ? v[0] : v;
}

/** ComparePage: pick runs, overlay their per-layer aux loss, MaxVio and EP imbalance by step or tokens, and diff their configurations. */
export default async function ComparePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const ids = selectedRuns(sp);
  const alignBy = one(sp, "alignBy") === "tokens" ? "tokens" : "step";
  const layerRaw = one(sp, "layer");
  const requestedLayer = layerRaw && /^\d+$/.test(layerRaw) ? Number(layerRaw) : null;
  const all = await listRuns();
  const dto = ids.length > 0 ? await compareRuns(ids, { alignBy, layer: requestedLayer ?? undefined }) : null;
  const layers = dto ? commonLayers(dto) : [];
  const layer = requestedLayer ?? layers[0] ?? null;
  // The server answered for requestedLayer only; without one it sent every layer and the chart picks `layer`.
  const diff = dto ? prepareConfigDiff(dto.config) : null;
  const chosen = new Set(ids);

  return (
    <div className="space-y-4" data-testid="compare-page">
      <header className="flex flex-wrap items-baseline gap-3">
        <nav className="text-xs text-muted">
          <Link href="/" prefetch={false} className="hover:text-fg">
            Runs
          </Link>{" "}
          / compare
        </nav>
        <h1 className="w-full text-xl font-semibold">Compare runs</h1>
      </header>

      <form method="get" action="/compare" className="space-y-3 rounded-lg border border-line bg-surface p-4" data-testid="compare-form">
        <fieldset>
          <legend className="mb-2 text-sm font-semibold">Runs (pick two or more)</legend>
          <div className="grid max-h-64 gap-1 overflow-y-auto sm:grid-cols-2 xl:grid-cols-3">
            {all.map((r) => (
              <label key={r.id} className="flex items-center gap-2 rounded px-2 py-1 text-sm hover:bg-surface-2" data-testid="compare-pick" data-run-key={r.runKey}>
                <input type="checkbox" name="run" value={r.id} defaultChecked={chosen.has(r.id)} />
                <span className="truncate font-medium">{r.name}</span>
                <StatusBadge status={r.status} />
                <span className="ml-auto font-mono text-[11px] text-muted">
                  E{r.numExperts} · k{r.topk} · {r.worldSize} GPUs
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <div className="flex flex-wrap items-end gap-4 text-sm">
          <label className="flex flex-col gap-1">
            <span className="text-xs text-muted">align by</span>
            <select name="alignBy" defaultValue={alignBy} className="rounded border border-line bg-surface px-2 py-1">
              <option value="step">step</option>
              <option value="tokens">tokens</option>
            </select>
          </label>
          <label className="flex flex-col gap-1">
            <span className="text-xs text-muted">MoE layer</span>
            <select name="layer" defaultValue={layer ?? ""} className="rounded border border-line bg-surface px-2 py-1">
              {layers.length === 0 && <option value="">first MoE layer</option>}
              {layers.map((l) => (
                <option key={l} value={l}>
                  layer {l}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="rounded bg-accent px-3 py-1.5 font-medium text-white hover:opacity-90" data-testid="compare-submit">
            Compare
          </button>
        </div>
      </form>

      {dto && dto.missing.length > 0 && (
        <p className="rounded border border-warn/50 bg-warn-bg px-3 py-2 text-sm text-warn">Unknown run ids: {dto.missing.join(", ")}</p>
      )}

      {dto && dto.runs.length > 0 && (
        <>
          <div className="grid gap-4 xl:grid-cols-3" data-testid="compare-charts" data-runs={dto.runs.length}>
            <CompareChart dto={dto} metric="auxLoss" layer={layer} />
            <CompareChart dto={dto} metric="maxVio" layer={layer} />
            <CompareChart dto={dto} metric="epImbalance" layer={layer} />
          </div>

          {diff && (
            <section className="rounded-lg border border-line bg-surface p-4" data-testid="config-diff" data-differing={diff.differing}>
              <h2 className="mb-2 text-sm font-semibold">
                Configuration <span className="font-normal text-muted">({diff.differing} of {diff.total} arguments differ)</span>
              </h2>
              <div className="overflow-x-auto">
                <table className="w-full text-xs">
                  <thead className="text-left text-muted">
                    <tr>
                      <th className="py-1 pr-3 font-medium">argument</th>
                      {dto.runs.map((r) => (
                        <th key={r.id} className="py-1 pr-3 font-medium">
                          <Link href={`/runs/${encodeURIComponent(r.id)}`} prefetch={false} className="text-accent hover:underline">
                            {r.name}
                          </Link>
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {diff.rows.map((row) => (
                      <tr
                        key={row.name}
                        data-testid="config-diff-row"
                        data-name={row.name}
                        data-differs={row.differs}
                        className={`border-t border-line ${row.differs ? "bg-warn-bg/60 font-semibold" : ""}`}
                      >
                        <td className="py-1 pr-3 font-mono">{row.name}</td>
                        {row.values.map((v, i) => (
                          <td key={i} className={`py-1 pr-3 font-mono [overflow-wrap:anywhere] ${row.differs ? "text-warn" : "text-muted"}`}>
                            {v}
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          )}
        </>
      )}
      {!dto && <p className="text-sm text-muted">Pick runs above and press Compare.</p>}
    </div>
  );
}
