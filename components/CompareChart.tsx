"use client";

import { useMemo } from "react";
import { CartesianGrid, LineChart, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { CompareDto, CompareSeriesDto } from "@/lib/dto";
import { formatCount, formatRatio } from "@/lib/ui/formatCount";
import { METRIC_LABELS, prepareCompareChart } from "@/lib/ui/prepareCompareChart";

/** CompareChart: one metric of one MoE layer with every compared run overlaid, x = step or cumulative tokens. */
export function CompareChart({ dto, metric, layer }: { dto: CompareDto; metric: CompareSeriesDto["metric"]; layer: number | null }) {
  const m = useMemo(() => prepareCompareChart(dto, metric, layer), [dto, metric, layer]);
  const tokens = dto.alignBy === "tokens";
  return (
    <section className="flex min-w-0 flex-col rounded-lg border border-line bg-surface p-4" data-testid={`compare-chart-${metric}`} data-lines={m.lines.filter((l) => l.points > 0).length}>
      <header className="mb-1 flex flex-wrap items-baseline gap-x-3">
        <h2 className="text-sm font-semibold">{METRIC_LABELS[metric]}</h2>
        <span className="text-xs text-muted">{layer == null ? "first MoE layer of each run" : `layer ${layer}`} · by {tokens ? "tokens" : "step"}</span>
      </header>
      <div className="h-56 w-full">
        {m.rows.length === 0 ? (
          <div className="flex h-full items-center justify-center text-sm text-muted">No data for this layer.</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={m.rows} margin={{ top: 10, right: 16, bottom: 4, left: 0 }}>
              <CartesianGrid stroke="var(--chart-grid)" strokeDasharray="3 3" />
              <XAxis
                dataKey="x"
                type="number"
                domain={["dataMin", "dataMax"]}
                ticks={m.xTicks}
                tick={{ fill: "var(--chart-axis)", fontSize: 11 }}
                stroke="var(--chart-axis)"
                tickFormatter={(v: number) => (tokens ? formatCount(v) : String(v))}
                label={{ value: tokens ? "tokens" : "step", position: "insideBottomRight", offset: -2, fill: "var(--chart-axis)", fontSize: 11 }}
              />
              <YAxis tick={{ fill: "var(--chart-axis)", fontSize: 11 }} stroke="var(--chart-axis)" tickFormatter={(v: number) => formatRatio(v)} width={48} />
              <ReferenceLine y={m.reference} stroke="var(--chart-ref)" strokeDasharray="6 4" ifOverflow="extendDomain" />
              {m.lines.map((l) => (
                <Line key={l.key} dataKey={l.key} name={l.name} stroke={l.color} strokeWidth={1.75} dot={false} isAnimationActive={false} connectNulls />
              ))}
              <Tooltip
                isAnimationActive={false}
                labelFormatter={(v) => (tokens ? `${formatCount(Number(v))} tokens` : `step ${v}`)}
                formatter={(v) => formatRatio(Number(v))}
                contentStyle={{ background: "var(--surface)", border: "1px solid var(--line)", fontSize: 12 }}
              />
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
      <ul className="mt-1 flex flex-wrap gap-3 text-[11px]" data-testid="compare-legend">
        {m.lines.map((l) => (
          <li key={l.key} className="flex items-center gap-1" data-testid="compare-legend-item" data-run-id={l.runId}>
            <span aria-hidden className="inline-block h-0.5 w-4" style={{ background: l.color }} />
            {l.name}
            {l.points === 0 && <span className="text-muted">(no data)</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
