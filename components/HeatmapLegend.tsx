"use client";

import { heatLegendStops, HOT_SATURATION, type HeatPalette } from "@/lib/ui/utilizationColor";

/** HeatmapLegend explains the utilization colour scale: cold < 1 < hot, dead < 0.1, empty = no report. */
export function HeatmapLegend({ palette }: { palette: HeatPalette }) {
  const stops = heatLegendStops(palette);
  const gradient = `linear-gradient(to right, ${stops
    .map((s, i) => `${s.color} ${((i / (stops.length - 1)) * 100).toFixed(0)}%`)
    .join(", ")})`;
  return (
    <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-[11px] text-muted" data-testid="heatmap-legend">
      <span className="font-medium text-fg">utilization = load / layer mean</span>
      <span className="flex flex-col gap-0.5">
        <span className="relative h-2.5 w-44 rounded-sm ring-1 ring-line" style={{ background: gradient }}>
          <span className="absolute -top-0.5 left-1/2 h-3.5 w-px bg-fg" aria-hidden />
        </span>
        <span className="relative h-3 w-44 text-[10px] leading-3">
          {stops.map((s, i) => (
            <span
              key={s.u}
              className="absolute -translate-x-1/2 whitespace-nowrap"
              style={{ left: `${(i / (stops.length - 1)) * 100}%` }}
            >
              {s.u === HOT_SATURATION ? `≥${s.u}` : s.u}
            </span>
          ))}
        </span>
      </span>
      <span>cold &lt; 1.0 (balanced) &lt; hot</span>
      <span className="flex items-center gap-1">
        <span className="relative inline-block h-2.5 w-2.5 rounded-sm" style={{ background: palette.dead }}>
          <span className="absolute inset-0 flex items-center justify-center text-[8px] leading-none" style={{ color: palette.neutral }}>
            ×
          </span>
        </span>
        dead (&lt; 0.1)
      </span>
      <span className="flex items-center gap-1">
        <span className="inline-block h-2.5 w-2.5 rounded-sm ring-1 ring-line" style={{ background: palette.empty }} />
        no report
      </span>
    </div>
  );
}
