"use client";

import { useMemo } from "react";
import { Area, CartesianGrid, ComposedChart, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis, type TooltipContentProps } from "recharts";
import type { OomPostMortemDto } from "@/lib/dto";
import { prepareMemoryChart, type MemoryRow } from "@/lib/ui/prepareMemoryChart";

const gib = (v: number | null) => (v == null ? "–" : `${v.toFixed(1)} GiB`);

/** PostMortemMemoryChart: the dying rank's peak, allocated and reserved memory over the window, the rest of its group's peak range, and the GPU's memory. */
export function PostMortemMemoryChart({ dto }: { dto: OomPostMortemDto }) {
  const m = useMemo(() => prepareMemoryChart(dto), [dto]);
  return (
    <section className="flex min-w-0 flex-col rounded-lg border border-line bg-surface p-4" data-testid="postmortem-memory" data-samples={m.samples}>
      <header className="mb-2 flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h2 className="text-sm font-semibold">Memory of rank {dto.event.rank}</h2>
        <span className="text-xs text-muted">
          torch.cuda.memory_stats() per step · band = peak of the {m.groupRanks} other rank{m.groupRanks === 1 ? "" : "s"} of its group
        </span>
      </header>
      <div className="h-64 w-full">
        {m.rows.length === 0 ? (
          <div className="flex h-full items-center justify-center text-sm text-muted">No memory samples in the window.</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={m.rows} margin={{ top: 14, right: 16, bottom: 4, left: 0 }}>
              <CartesianGrid stroke="var(--chart-grid)" strokeDasharray="3 3" />
              <XAxis dataKey="step" type="number" domain={["dataMin", "dataMax"]} allowDecimals={false} tick={{ fill: "var(--chart-axis)", fontSize: 11 }} stroke="var(--chart-axis)" />
              <YAxis domain={[0, m.yMax || "auto"]} tick={{ fill: "var(--chart-axis)", fontSize: 11 }} stroke="var(--chart-axis)" tickFormatter={(v: number) => `${v} GiB`} width={60} />
              <Area dataKey="group" stroke="none" fill="var(--chart-band)" fillOpacity={0.3} isAnimationActive={false} activeDot={false} name="group peak" connectNulls />
              <Line dataKey="reserved" stroke="var(--chart-5)" strokeWidth={1.25} strokeDasharray="4 3" dot={false} isAnimationActive={false} name="reserved" connectNulls />
              <Line dataKey="allocated" stroke="var(--chart-1)" strokeWidth={1.25} dot={false} isAnimationActive={false} name="allocated" connectNulls />
              <Line dataKey="peak" stroke="var(--marker-oom)" strokeWidth={2.25} dot={{ r: 2 }} isAnimationActive={false} name="peak allocated" connectNulls />
              {m.gpuGiB !== null && (
                <ReferenceLine
                  y={m.gpuGiB}
                  stroke="var(--fg)"
                  strokeWidth={1.5}
                  ifOverflow="extendDomain"
                  className="gpu-memory-line"
                />
              )}
              <ReferenceLine x={dto.event.step} stroke="var(--marker-oom)" strokeDasharray="2 3" label={{ value: "OOM", position: "insideTopRight", fill: "var(--marker-oom)", fontSize: 11, fontWeight: 600 }} />
              <Tooltip isAnimationActive={false} content={(t: TooltipContentProps) => <MemTooltip props={t} />} />
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
      <ul className="mt-2 flex flex-wrap gap-4 text-[11px] text-muted" aria-label="Legend">
        <li className="flex items-center gap-1"><span aria-hidden className="inline-block h-0.5 w-4 bg-[var(--marker-oom)]" /> peak allocated</li>
        <li className="flex items-center gap-1"><span aria-hidden className="inline-block h-0.5 w-4 bg-[var(--chart-1)]" /> allocated</li>
        <li className="flex items-center gap-1"><span aria-hidden className="inline-block w-4 border-t-2 border-dashed border-[var(--chart-5)]" /> reserved</li>
        <li className="flex items-center gap-1"><span aria-hidden className="inline-block h-2.5 w-4 bg-[var(--chart-band)] opacity-40" /> group peak range</li>
        {m.gpuGiB !== null && (
          <li className="flex items-center gap-1" data-testid="gpu-memory-legend"><span aria-hidden className="inline-block h-0.5 w-4 bg-fg" /> GPU memory {gib(m.gpuGiB)}</li>
        )}
      </ul>
    </section>
  );
}

function MemTooltip({ props }: { props: TooltipContentProps }) {
  if (!props.active || !props.payload?.length) return null;
  const r = props.payload[0]?.payload as MemoryRow | undefined;
  if (!r) return null;
  return (
    <div className="rounded-md border border-line bg-surface px-3 py-2 text-xs shadow-lg">
      <div className="mb-1 font-semibold">step {r.step}{r.oom ? " · sent with the OOM" : ""}</div>
      <div>peak allocated: <b>{gib(r.peak)}</b></div>
      <div className="text-muted">allocated {gib(r.allocated)} · reserved {gib(r.reserved)}</div>
      {r.group && <div className="text-muted">group peak: {gib(r.group[0])} – {gib(r.group[1])}</div>}
    </div>
  );
}
