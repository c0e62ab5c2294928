import type { EpLoadDto } from "@/lib/dto";
import { formatCount, formatRatio } from "@/lib/ui/formatCount";
import { prepareEpLoadBars } from "@/lib/ui/prepareEpLoadBars";

/**
 * EpLoadBars: tokens received per EP rank (getEpLoad, after capacity dropping: what memory follows) for
 * one layer at one step, one bar group per (edp, pp) dispatch group with its mean as a dashed line; where
 * ranks sent counts before dropping, an outline marks each EP rank's demand (what the router sent toward
 * it). The worst group and rank are highlighted and partial groups say how many ranks reported.
 */
export function EpLoadBars({ dto, layer }: { dto: EpLoadDto | null; layer: number | null }) {
  if (!dto) {
    return (
      <section className="rounded-lg border border-line bg-surface p-4" data-testid="ep-load">
        <h2 className="text-sm font-semibold">EP-rank load</h2>
        <p className="py-6 text-center text-sm text-muted">{layer == null ? "No MoE layer selected." : "No counts for this layer at this step yet."}</p>
      </section>
    );
  }
  const m = prepareEpLoadBars(dto);
  return (
    <section className="rounded-lg border border-line bg-surface p-4" data-testid="ep-load" data-groups={m.totalGroups} data-ep-imbalance={m.epImbalance ?? ""}>
      <header className="mb-1 flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h2 className="text-sm font-semibold">
          EP-rank load <span className="font-normal text-muted">layer {m.layer} · step {m.step}</span>
        </h2>
        <span className="text-xs text-muted">
          EP {m.ep} · ETP {m.etp} · {m.expertsPerEpRank} expert{m.expertsPerEpRank === 1 ? "" : "s"} per EP rank · {m.totalGroups} dispatch group{m.totalGroups === 1 ? "" : "s"}
        </span>
      </header>
      <p className="mb-3 text-xs" data-testid="ep-load-summary">
        {m.worst ? (
          <>
            EP imbalance <b className={m.worst.ratio >= 2 ? "text-danger" : m.worst.ratio >= 1.3 ? "text-warn" : ""}>{formatRatio(m.worst.ratio)}×</b>: EP rank{" "}
            <b>{m.worst.epRank}</b> of group edp {m.worst.edp} · pp {m.worst.pp} receives {formatCount(m.worst.received)} tokens, its group&apos;s mean is{" "}
            {formatCount(m.worst.mean)} (received, after capacity dropping).
            {m.demandImbalance != null && (
              <span data-testid="ep-demand-summary">
                {" "}
                Demand before dropping: worst {formatRatio(m.demandImbalance)}× its group&apos;s mean.
              </span>
            )}
          </>
        ) : (
          <span className="text-muted">No complete group to compare.</span>
        )}
      </p>
      <div className="flex flex-wrap gap-4">
        {m.groups.map((g) => (
          <figure
            key={g.key}
            data-testid="ep-group"
            data-worst={g.worst}
            data-partial={g.partial}
            className={`min-w-32 flex-1 rounded-md border p-2 ${g.worst ? "border-danger/60 bg-danger-bg/30" : "border-line"}`}
          >
            <figcaption className="mb-1 flex flex-wrap items-baseline gap-x-2 text-[11px]">
              <span className="font-medium">{g.label}</span>
              <span className="text-muted">max/mean {formatRatio(g.ratio)}×</span>
              {g.partialLabel && (
                <span className="rounded bg-warn-bg px-1 text-warn" data-testid="ep-group-partial">
                  partial: {g.partialLabel}
                </span>
              )}
            </figcaption>
            <div className="relative flex h-28 items-end gap-1 border-b border-line pl-9">
              {/* The y axis: the shared scale's top and zero, in tokens received. */}
              <span aria-hidden data-testid="ep-axis-max" className="absolute top-0 left-0 w-8 text-right text-[10px] leading-none text-muted">
                {formatCount(m.axisMax)}
              </span>
              <span aria-hidden className="absolute bottom-0 left-0 w-8 text-right text-[10px] leading-none text-muted">
                0
              </span>
              {g.bars.map((b) => (
                <div
                  key={b.epRank}
                  className="group relative flex h-full flex-1 flex-col justify-end"
                  title={`EP rank ${b.epRank}: received ${formatCount(b.received)} tokens (${formatRatio(b.ofMean)}× the group mean)${b.demand != null ? `; demand before dropping ${formatCount(b.demand)}` : ""}`}
                >
                  {b.demandHeight != null && (
                    <div
                      aria-hidden
                      data-testid="ep-demand"
                      className="pointer-events-none absolute right-0 left-0 rounded-t-sm border border-dashed border-[var(--heat-hot)]"
                      style={{ bottom: 0, height: `${Math.max(1, b.demandHeight * 100)}%` }}
                    />
                  )}
                  <div
                    data-testid="ep-bar"
                    data-worst={b.worst}
                    className={`w-full rounded-t-sm ${b.worst ? "bg-[var(--heat-hot)]" : "bg-[var(--chart-1)] opacity-70"}`}
                    style={{ height: `${Math.max(1, b.height * 100)}%` }}
                  />
                </div>
              ))}
              <div
                aria-hidden
                className="pointer-events-none absolute right-0 left-9 border-t-2 border-dashed border-fg/70"
                style={{ bottom: `${g.meanHeight * 100}%` }}
              >
                <span className="absolute -top-3.5 right-0 rounded bg-surface/80 px-0.5 text-[10px] leading-none text-fg">mean {formatCount(Math.round(g.mean))}</span>
              </div>
            </div>
            <div className="mt-0.5 flex gap-1 pl-9 text-center text-[10px] text-muted">
              {g.bars.map((b) => (
                <span key={b.epRank} className={`flex-1 ${b.worst ? "font-bold text-danger" : ""}`}>
                  r{b.epRank}
                </span>
              ))}
            </div>
          </figure>
        ))}
      </div>
      {m.hiddenGroups > 0 && <p className="mt-2 text-[11px] text-muted">{m.hiddenGroups} more groups not shown (the worst is first).</p>}
      <p className="mt-2 flex items-center gap-3 text-[11px] text-muted">
        <span className="flex items-center gap-1">
          <span className="inline-block h-2.5 w-2.5 rounded-sm bg-[var(--chart-1)] opacity-70" /> tokens received by EP rank (after capacity dropping)
        </span>
        {m.showDemand && (
          <span className="flex items-center gap-1">
            <span className="inline-block h-2.5 w-2.5 rounded-sm border border-dashed border-[var(--heat-hot)]" /> demand (before dropping)
          </span>
        )}
        <span className="flex items-center gap-1">
          <span className="inline-block h-2.5 w-2.5 rounded-sm bg-[var(--heat-hot)]" /> worst rank
        </span>
        <span className="flex items-center gap-1">
          <span className="inline-block w-4 border-t-2 border-dashed border-fg/70" /> group mean
        </span>
      </p>
      {m.mismatches.length > 0 && (
        <div className="mt-3 rounded border border-warn/50 bg-warn-bg p-2 text-xs" data-testid="ep-mismatches">
          <p className="mb-1 font-medium text-warn">
            {m.mismatches.length} rank{m.mismatches.length === 1 ? "" : "s"} reported received counts that disagree with the counts derived from routing:
          </p>
          <ul className="grid grid-cols-[repeat(auto-fill,minmax(16rem,1fr))] gap-x-4 font-mono">
            {m.mismatches.slice(0, 24).map((x) => (
              <li key={`${x.rank}/${x.epRank}`}>
                rank {x.rank} (EP {x.epRank}): derived {formatCount(x.derived)}, reported {formatCount(x.reported)}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
