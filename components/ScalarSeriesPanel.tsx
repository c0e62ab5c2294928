"use client";

import { Area, CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ScalarSeriesDto } from "@/lib/dto";
import { prepareScalarPanels } from "@/lib/ui/prepareScalarPanels";

/** ScalarSeriesPanel shows a run's run-level named series (imported logs, TensorBoard, and a live run's per-step loss means): one small chart each. */
export function ScalarSeriesPanel({ dto }: { dto: ScalarSeriesDto | null }) {
  const panels = prepareScalarPanels(dto);
  if (panels.length === 0) return null;
  return (
    <section className="rounded-lg border border-line bg-surface p-4" data-testid="scalar-series-panel">
      <h2 className="text-sm font-semibold">Logged series</h2>
      <p className="mb-3 text-xs text-muted">
        Run-level values as Megatron logs them per step: imported from a log or TensorBoard file, or for a live run
        each loss&apos;s mean over the MoE layers that reported (Megatron&apos;s <code>load_balancing_loss</code>,{" "}
        <code>z_loss</code>, ...){dto && dto.bucketSize > 1 ? `; ${dto.bucketSize} steps per point, band = min..max (for a live run's losses: the mean over layers of each layer's min..max)` : ""}.
      </p>
      <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
        {panels.map((p) => (
          <figure key={p.name} data-testid="scalar-series-chart" data-name={p.name}>
            <figcaption className="mb-1 flex justify-between text-xs">
              <code>{p.name}</code>
              {p.last && (
                <span className="text-muted">
                  {p.last.value.toPrecision(4)} @ {p.last.step}
                </span>
              )}
            </figcaption>
            <div className="h-40">
              <ResponsiveContainer width="100%" height="100%">
                <ComposedChart data={p.rows} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
                  <CartesianGrid stroke="var(--line)" strokeDasharray="3 3" />
                  <XAxis dataKey="step" type="number" domain={["dataMin", "dataMax"]} tick={{ fontSize: 10, fill: "var(--muted)" }} />
                  <YAxis width={48} domain={["auto", "auto"]} tick={{ fontSize: 10, fill: "var(--muted)" }} />
                  <Tooltip contentStyle={{ background: "var(--surface)", border: "1px solid var(--line)", fontSize: 12 }} />
                  <Area dataKey="band" stroke="none" fill={p.color} fillOpacity={0.15} isAnimationActive={false} />
                  <Line dataKey="value" stroke={p.color} dot={p.rows.length < 30} strokeWidth={1.5} isAnimationActive={false} />
                </ComposedChart>
              </ResponsiveContainer>
            </div>
          </figure>
        ))}
      </div>
    </section>
  );
}
