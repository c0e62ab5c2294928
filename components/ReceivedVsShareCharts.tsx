"use client";

import { useMemo } from "react";
import { Area, CartesianGrid, ComposedChart, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis, type TooltipContentProps } from "recharts";
import type { OomPostMortemDto } from "@/lib/dto";
import { formatCount, formatRatio } from "@/lib/ui/formatCount";
import { prepareReceivedVsShare, type ReceivedRow } from "@/lib/ui/prepareReceivedVsShare";

/** ReceivedVsShareCharts: one small chart per MoE layer of the stage: the dying EP rank's received tokens vs its share (the group mean) and the other EP ranks' range. */
export function ReceivedVsShareCharts({ dto }: { dto: OomPostMortemDto }) {
  const panels = useMemo(() => prepareReceivedVsShare(dto), [dto]);
  const ep = dto.rank.epRank;
  return (
    <section className="rounded-lg border border-line bg-surface p-4" data-testid="received-vs-share" data-layers={panels.length}>
      <header className="mb-2 flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h2 className="text-sm font-semibold">Tokens received vs its share, per MoE layer</h2>
        <span className="text-xs text-muted">
          {ep === null ? "EP rank unknown" : `EP rank ${ep}`} · share = its dispatch group&apos;s mean · band = the other EP ranks (min–max)
        </span>
      </header>
      {panels.length === 0 ? (
        <p className="py-6 text-center text-sm text-muted">No token counts of this rank&apos;s dispatch group in the window.</p>
      ) : (
        <div className="grid gap-3 md:grid-cols-2 xl:grid-cols-4">
          {panels.map((p) => (
            <figure
              key={p.layer}
              data-testid="received-panel"
              data-layer={p.layer}
              data-worst={p.worst}
              className={`min-w-0 rounded-md border p-2 ${p.worst ? "border-danger/60 bg-danger-bg/30" : "border-line"}`}
            >
              <figcaption className="mb-1 flex flex-wrap items-baseline gap-x-2 text-[11px]">
                <span className="font-semibold">layer {p.layer}</span>
                {p.peak && (
                  <span className={p.peak.ratio >= 2 ? "font-semibold text-danger" : p.peak.ratio >= 1.3 ? "text-warn" : "text-muted"}>
                    up to {formatRatio(p.peak.ratio)}× at step {p.peak.step}
                  </span>
                )}
                {p.partialSteps > 0 && <span className="rounded bg-warn-bg px-1 text-warn">{p.partialSteps} partial</span>}
              </figcaption>
              <div className="h-36 w-full">
                {p.rows.length === 0 ? (
                  <div className="flex h-full items-center justify-center text-xs text-muted">no counts</div>
                ) : (
                  <ResponsiveContainer width="100%" height="100%">
                    <ComposedChart data={p.rows} margin={{ top: 6, right: 8, bottom: 0, left: 0 }}>
                      <CartesianGrid stroke="var(--chart-grid)" strokeDasharray="3 3" />
                      <XAxis dataKey="step" type="number" domain={["dataMin", "dataMax"]} allowDecimals={false} tick={{ fill: "var(--chart-axis)", fontSize: 10 }} stroke="var(--chart-axis)" />
                      <YAxis domain={[0, p.yMax || "auto"]} tick={{ fill: "var(--chart-axis)", fontSize: 10 }} stroke="var(--chart-axis)" tickFormatter={(v: number) => formatCount(v)} width={40} />
                      <Area dataKey="others" stroke="none" fill="var(--chart-band)" fillOpacity={0.3} isAnimationActive={false} activeDot={false} name="other EP ranks" />
                      <Line dataKey="share" stroke="var(--chart-ref)" strokeDasharray="5 3" strokeWidth={1.5} dot={false} isAnimationActive={false} name="share (group mean)" />
                      <Line dataKey="mine" stroke="var(--marker-oom)" strokeWidth={2} dot={false} isAnimationActive={false} name={`EP rank ${ep ?? "?"}`} />
                      <ReferenceLine x={dto.event.step} stroke="var(--marker-oom)" strokeDasharray="2 3" ifOverflow="extendDomain" />
                      <Tooltip isAnimationActive={false} content={(t: TooltipContentProps) => <RowTooltip props={t} ep={ep} />} />
                    </ComposedChart>
                  </ResponsiveContainer>
                )}
              </div>
            </figure>
          ))}
        </div>
      )}
      <ul className="mt-2 flex flex-wrap gap-4 text-[11px] text-muted" aria-label="Legend">
        <li className="flex items-center gap-1">
          <span aria-hidden className="inline-block h-0.5 w-4 bg-[var(--marker-oom)]" /> EP rank {ep ?? "?"} (the dying rank)
        </li>
        <li className="flex items-center gap-1">
          <span aria-hidden className="inline-block w-4 border-t-2 border-dashed border-[var(--chart-ref)]" /> its share (group mean)
        </li>
        <li className="flex items-center gap-1">
          <span aria-hidden className="inline-block h-2.5 w-4 bg-[var(--chart-band)] opacity-40" /> other EP ranks
        </li>
      </ul>
    </section>
  );
}

function RowTooltip({ props, ep }: { props: TooltipContentProps; ep: number | null }) {
  if (!props.active || !props.payload?.length) return null;
  const r = props.payload[0]?.payload as ReceivedRow | undefined;
  if (!r) return null;
  return (
    <div className="rounded-md border border-line bg-surface px-3 py-2 text-xs shadow-lg">
      <div className="mb-1 font-semibold">step {r.step}{r.complete ? "" : " (partial group)"}</div>
      <div>
        EP rank {ep ?? "?"}: <b>{formatCount(r.mine)}</b> tokens ({formatRatio(r.ratio)}× its share)
      </div>
      <div className="text-muted">share (group mean): {formatCount(r.share)}</div>
      {r.others && (
        <div className="text-muted">
          other EP ranks: {formatCount(r.others[0])} – {formatCount(r.others[1])}
        </div>
      )}
    </div>
  );
}
