import type { StepMetricsDto } from "@/lib/dto";
import { prepareStepMetricsTable, type ExpertMention } from "@/lib/ui/prepareStepMetricsTable";

/**
 * StepMetricsPanel: per MoE layer at one step (getStepMetrics): the router's imbalance numbers, dead, hottest
 * and coldest experts, and, where capacity dropping changed the load, the dispatched view beside them.
 */
export function StepMetricsPanel({ dto, selectedLayer }: { dto: StepMetricsDto | null; selectedLayer: number | null }) {
  const m = dto ? prepareStepMetricsTable(dto, selectedLayer) : null;
  return (
    <section className="rounded-lg border border-line bg-surface p-4" data-testid="step-metrics" data-step={m?.step ?? ""}>
      <header className="mb-1 flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h2 className="text-sm font-semibold">
          Experts per layer <span className="font-normal text-muted">at step {m?.step ?? "–"}</span>
        </h2>
        {m && (
          <span className={`text-xs ${m.deadTotal > 0 ? "text-danger" : "text-muted"}`} data-testid="dead-total">
            {m.deadTotal} dead expert{m.deadTotal === 1 ? "" : "s"}
          </span>
        )}
      </header>
      {m && (
        <p className="mb-2 text-[11px] text-muted" data-testid="dedup-rule">
          Global load counts {m.rules.join("; ") || "–"} (de-duplication rule). Dead = utilization below 0.1 of the layer mean. MaxVio across layers: {m.maxVioSummary}.
        </p>
      )}
      {m && (
        <p className="mb-2 text-[11px] text-muted" data-testid="load-basis">
          {m.basisNote}
          {m.anyDispatched ? " Dispatched = the same metrics after capacity dropping (what the experts processed)." : ""}
        </p>
      )}
      {!m || m.rows.length === 0 ? (
        <p className="py-6 text-center text-sm text-muted">No aggregated layers at this step yet.</p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-xs">
            <thead className="border-b border-line text-left text-muted">
              <tr>
                <th className="py-1 pr-2 font-medium">Layer</th>
                <th className="py-1 pr-2 text-right font-medium">MaxVio</th>
                <th className="py-1 pr-2 text-right font-medium">CV</th>
                <th className="py-1 pr-2 text-right font-medium">Entropy</th>
                <th className="py-1 pr-2 text-right font-medium">EP imb.</th>
                {m.anyDispatched && (
                  <th className="py-1 pr-2 text-right font-medium" title="after capacity dropping: MaxVio · CV · entropy, and the share of assignments dropped">
                    Dispatched
                  </th>
                )}
                <th className="py-1 pr-2 font-medium">Dead</th>
                <th className="py-1 pr-2 font-medium">Hottest</th>
                <th className="py-1 font-medium">Coldest</th>
              </tr>
            </thead>
            <tbody>
              {m.rows.map((r) => (
                <tr key={r.layer} data-testid="step-metrics-row" data-layer={r.layer} className={`border-b border-line last:border-0 ${r.selected ? "bg-surface-2" : ""}`}>
                  <td className="py-1 pr-2 font-medium">
                    L{r.layer}
                    {r.basisWarning && (
                      <span className="ml-1 text-[10px] text-warn" title={r.basisWarning} data-testid="basis-warning">
                        capped
                      </span>
                    )}
                    {r.partial && (
                      <span className="ml-1 text-[10px] text-warn" title="not every rank reported this layer yet">
                        {r.ranks}
                      </span>
                    )}
                  </td>
                  <td className="py-1 pr-2 text-right font-mono">{r.maxVio}</td>
                  <td className="py-1 pr-2 text-right font-mono">{r.cv}</td>
                  <td className="py-1 pr-2 text-right font-mono">{r.entropy}</td>
                  <td className="py-1 pr-2 text-right font-mono">{r.epImbalance}</td>
                  {m.anyDispatched && (
                    <td className="py-1 pr-2 text-right font-mono text-muted" data-testid="dispatched-metrics">
                      {r.dispatched ? `${r.dispatched.maxVio} · ${r.dispatched.cv} · ${r.dispatched.entropy} (${r.dropped} dropped)` : "same"}
                    </td>
                  )}
                  <td className="py-1 pr-2">{r.dead.length === 0 ? <span className="text-muted">none</span> : <Mentions list={r.dead} className="text-danger" />}</td>
                  <td className="py-1 pr-2">
                    <Mentions list={r.hottest} className="text-[var(--heat-hot)]" />
                  </td>
                  <td className="py-1">
                    <Mentions list={r.coldest} className="text-[var(--heat-cold)]" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Mentions({ list, className }: { list: ExpertMention[]; className: string }) {
  return (
    <span className="flex flex-wrap gap-x-2 font-mono">
      {list.map((e) => (
        <span key={e.expert} title={e.title} className={className}>
          {e.label}
        </span>
      ))}
    </span>
  );
}
