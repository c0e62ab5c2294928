"use client";

import { useEffect, useRef, useState } from "react";
import { afterPageLoad } from "./afterPageLoad";
import type { CapacityWhatIfDto } from "@/lib/dto";
import { formatCount } from "@/lib/ui/formatCount";
import { CAPACITY_FACTOR_RANGE, clampCapacityFactor, prepareCapacityTable } from "@/lib/ui/prepareCapacityTable";

/** Debounce of the what-if request while the slider moves. */
const DEBOUNCE_MS = 200;

/**
 * CapacityWhatIf: a capacity-factor slider (0.5..4, kept in the URL as ?cf=) and, per MoE layer, the drops
 * Megatron's get_capacity would cause on the observed counts at that factor and the factor needed for zero
 * drops, from GET /api/runs/{id}/capacity (debounced). The URL is updated with history.replaceState so
 * moving the slider does not re-render the server components.
 */
export function CapacityWhatIf({ runId, step, initialCf }: { runId: string; step: number | null; initialCf: number }) {
  const [cf, setCf] = useState(initialCf);
  const [text, setText] = useState(initialCf.toFixed(2));
  const [dto, setDto] = useState<CapacityWhatIfDto | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  // Requests are numbered; an answer is shown when it is newer than the one on screen. In-flight requests
  // are not aborted when the step moves on (a live run changes it every refresh), so a slow server still
  // shows the latest answer it managed to compute instead of none.
  const issued = useRef(0);
  const shown = useRef(0);
  useEffect(() => {
    let t: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const query = () => {
      const id = ++issued.current;
      setLoading(true);
      const q = new URLSearchParams({ cf: String(cf) });
      if (step != null) q.set("step", String(step));
      fetch(`/api/runs/${encodeURIComponent(runId)}/capacity?${q}`, { cache: "no-store" })
        .then(async (r) => {
          const body = (await r.json()) as CapacityWhatIfDto | { error: string };
          if (!r.ok || "error" in body) throw new Error("error" in body ? body.error : `HTTP ${r.status}`);
          if (id < shown.current) return;
          shown.current = id;
          setDto(body);
          setError(null);
        })
        .catch((err: unknown) => {
          if (id < shown.current) return;
          shown.current = id;
          setError(err instanceof Error ? err.message : String(err));
        })
        .finally(() => {
          if (id === issued.current) setLoading(false);
        });
    };
    // The first request waits for the page's streamed panels (the what-if reads every layer's counts).
    void afterPageLoad().then(() => {
      if (!cancelled) t = setTimeout(query, DEBOUNCE_MS);
    });
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [runId, step, cf]);

  const choose = (v: number, typed = false) => {
    const next = clampCapacityFactor(v);
    setCf(next);
    if (!typed) setText(next.toFixed(2));
    const url = new URL(window.location.href);
    url.searchParams.set("cf", next.toFixed(2));
    // Next.js syncs useSearchParams with native history calls; a null state lets it merge its own (per its docs).
    window.history.replaceState(null, "", url);
  };

  const m = dto ? prepareCapacityTable(dto) : null;
  const { min, max, step: inc } = CAPACITY_FACTOR_RANGE;
  return (
    <section className="rounded-lg border border-line bg-surface p-4" data-testid="capacity-whatif" data-cf={cf} aria-busy={loading}>
      <header className="mb-2 flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h2 className="text-sm font-semibold">
          Capacity factor what-if <span className="font-normal text-muted">on the observed counts at step {m?.step ?? step ?? "–"}</span>
        </h2>
        <span className="text-xs text-muted">
          configured: {m?.configured != null ? <b className="text-fg">{m.configured}</b> : "none (dropless)"}
        </span>
      </header>
      <div className="mb-3 flex flex-wrap items-center gap-3 text-xs">
        <label htmlFor="cf-slider" className="text-muted">
          --moe-expert-capacity-factor
        </label>
        <input
          id="cf-slider"
          type="range"
          min={min}
          max={max}
          step={inc}
          value={cf}
          onChange={(e) => choose(Number(e.target.value))}
          data-testid="capacity-slider"
          className="w-64 accent-[var(--accent)]"
        />
        <input
          type="number"
          aria-label="capacity factor"
          min={min}
          max={max}
          step={inc}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            const n = Number(e.target.value);
            if (e.target.value !== "" && Number.isFinite(n) && n >= min && n <= max) choose(n, true);
          }}
          onBlur={() => setText(cf.toFixed(2))}
          data-testid="capacity-input"
          className="w-20 rounded border border-line bg-bg px-2 py-1 font-mono"
        />
        {m?.worst && (
          <span data-testid="capacity-summary">
            worst layer: <b>L{m.worst.layer}</b> drops <b data-testid="capacity-worst-drop">{m.worst.dropPercent}</b> of its token assignments
          </span>
        )}
        {m && !m.worst && m.rows.length > 0 && (
          <span data-testid="capacity-summary">no layer drops tokens at this capacity factor</span>
        )}
        {loading && <span className="text-muted">computing…</span>}
      </div>
      {error && (
        <p role="alert" className="mb-2 rounded border border-danger/40 bg-danger-bg px-2 py-1 text-xs text-danger">
          {error}
        </p>
      )}
      {m && m.rows.length === 0 && <p className="py-4 text-center text-sm text-muted">No counts at this step yet.</p>}
      {m && m.rows.length > 0 && (
        <>
          <table className="w-full text-xs">
            <thead className="border-b border-line text-left text-muted">
              <tr>
                <th className="py-1 pr-2 font-medium">Layer</th>
                <th className="py-1 pr-2 font-medium">Dropped at cf {m.capacityFactor.toFixed(2)}</th>
                <th className="py-1 pr-2 text-right font-medium">Assignments dropped</th>
                <th className="py-1 pr-2 text-right font-medium">cf for zero drops</th>
                <th className="py-1 pr-2 font-medium" title="capacity applies per source rank: C from that rank's own tokens">
                  Per source rank
                </th>
                <th className="py-1 font-medium" />
              </tr>
            </thead>
            <tbody>
              {m.rows.map((r) => (
                <tr key={r.layer} data-testid="capacity-row" data-layer={r.layer} className="border-b border-line last:border-0">
                  <td className="py-1 pr-2 font-medium">L{r.layer}</td>
                  <td className="py-1 pr-2">
                    <div className="flex items-center gap-2">
                      <div className="h-2 w-40 overflow-hidden rounded-sm bg-surface-2">
                        <div className={`h-full ${r.covered ? "bg-ok" : "bg-[var(--heat-hot)]"}`} style={{ width: `${r.barWidth * 100}%` }} />
                      </div>
                      <span className="font-mono" data-testid="capacity-drop">
                        {r.dropPercent}
                      </span>
                    </div>
                  </td>
                  <td className="py-1 pr-2 text-right font-mono text-muted">
                    {formatCount(r.dropped)} / {formatCount(r.assignments)}
                  </td>
                  <td className="py-1 pr-2 text-right font-mono">
                    <span className={r.covered ? "text-ok" : ""}>{r.cfNeeded}</span>
                  </td>
                  <td className="py-1 pr-2" data-testid="capacity-ranks">
                    <details>
                      <summary className="cursor-pointer font-mono">
                        {r.worstRank ? `worst rank ${r.worstRank.rank}: ${r.worstRank.dropPercent} (${r.worstRank.capacity})` : `${r.rankCount} ranks, none drops`}
                      </summary>
                      <table className="mt-1 font-mono text-[11px]">
                        <tbody>
                          {r.ranks.map((x) => (
                            <tr key={x.rank} data-testid="capacity-rank-row" data-rank={x.rank}>
                              <td className="pr-2">rank {x.rank}</td>
                              <td className="pr-2 text-muted">{x.capacity}</td>
                              <td className="pr-2 text-right">{x.dropPercent}</td>
                              <td className="pr-2 text-right text-muted">
                                {formatCount(x.dropped)} / {formatCount(x.assignments)}
                              </td>
                              <td className="text-right text-muted">cf {x.cfNeeded}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                      {r.rankCount > r.ranks.length && <p className="text-[10px] text-muted">{r.rankCount - r.ranks.length} more ranks drop less.</p>}
                    </details>
                  </td>
                  <td className="py-1">
                    {r.estimate && (
                      <span className="rounded bg-info-bg px-1 text-[10px] text-info" title="per-step sums over micro-batches: m × C per step">
                        estimate
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="mt-2 text-[11px] text-muted" data-testid="capacity-basis">
            Basis: {m.bases.join("; ")}. Megatron&apos;s capacity per source rank and micro-batch is C = ceil(T·k/E·cf).
            {m.anyEstimate ? " Counts are summed over micro-batches per step, so drops use m·C and are estimates." : ""}
            {m.bases.length === 1 && m.bases[0].startsWith("dispatched") && m.configured != null ? " Only dispatched counts were reported under the configured factor, so drops are underestimated." : ""}
          </p>
        </>
      )}
    </section>
  );
}
