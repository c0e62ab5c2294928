"use client";

import { useState, type ReactNode } from "react";
import { linearScale, nearestIndex, niceTicks, type Scale } from "@/lib/ui/chartGeometry";

/** Horizontal user units of the plot's SVG: it stretches to its box, strokes keep their pixel width. */
const VB_W = 1000;

/** PlotRefLine: a horizontal (axis "y") or vertical (axis "x") reference line with an optional label. */
export interface PlotRefLine {
  axis: "x" | "y";
  value: number;
  color: string;
  dash?: string;
  width?: number;
  label?: string;
  labelColor?: string;
  className?: string;
}

/** SvgPlotProps: the frame (size, domains, axes) and what is drawn in it. */
export interface SvgPlotProps {
  /** Height of the whole box in pixels (axes included). */
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
  xDomain: [number, number];
  yDomain: [number, number];
  xLabel?: string;
  yFormat: (v: number) => string;
  /** The x values the pointer snaps to (ascending). */
  xs: readonly number[];
  refLines?: PlotRefLine[];
  tooltip?: (index: number) => ReactNode;
  onPick?: (index: number) => void;
  /** A dot at the hovered x (e.g. on the highlighted line), in data units. */
  hoverDot?: (index: number) => { y: number; color: string } | null;
  /** The series, drawn in the SVG's user units through the scales. */
  children: (scales: { x: Scale; y: Scale }) => ReactNode;
}

/**
 * SvgPlot: a light chart frame (dashed grid, axis ticks, reference lines, a snapping hover cursor with a
 * tooltip) around series drawn as plain SVG paths. It needs no measurement: the SVG is stretched to the box
 * (`preserveAspectRatio="none"`, strokes unscaled) and the tick labels are HTML placed in percent, so the
 * server's HTML already shows the chart and hydration changes nothing on screen.
 */
export function SvgPlot(props: SvgPlotProps) {
  const { height, margin: m, xDomain, yDomain } = props;
  const plotH = Math.max(1, height - m.top - m.bottom);
  const x = linearScale(xDomain[0], xDomain[1], 0, VB_W);
  const y = linearScale(yDomain[0], yDomain[1], plotH, 0);
  const xTicks = niceTicks(xDomain[0], xDomain[1], 5, true);
  const yTicks = niceTicks(yDomain[0], yDomain[1], 4);
  const [hover, setHover] = useState<{ i: number; mx: number; my: number; w: number } | null>(null);
  // Left offset of a data x as CSS: the plot spans the box minus the margins.
  const leftOf = (v: number) => `calc(${m.left}px + (100% - ${m.left + m.right}px) * ${(x(v) / VB_W).toFixed(4)})`;

  function indexAt(ev: React.MouseEvent<HTMLDivElement>) {
    const rect = ev.currentTarget.getBoundingClientRect();
    const w = rect.width - m.left - m.right;
    if (w <= 0) return null;
    const frac = (ev.clientX - rect.left - m.left) / w;
    const i = nearestIndex(props.xs, xDomain[0] + frac * (xDomain[1] - xDomain[0]));
    return i < 0 ? null : { i, mx: ev.clientX - rect.left, my: ev.clientY - rect.top, w: rect.width };
  }

  const hi = hover ? hover.i : null;
  const dot = hi != null && props.hoverDot ? props.hoverDot(hi) : null;
  return (
    <div
      className="relative h-full w-full select-none"
      style={{ height, cursor: props.onPick ? "pointer" : undefined }}
      onMouseMove={(ev) => setHover(indexAt(ev))}
      onMouseLeave={() => setHover(null)}
      onClick={(ev) => {
        const h = indexAt(ev);
        if (h && props.onPick) props.onPick(h.i);
      }}
    >
      <svg
        className="absolute overflow-visible [&_*]:[vector-effect:non-scaling-stroke]"
        style={{ left: m.left, top: m.top, width: `calc(100% - ${m.left + m.right}px)`, height: plotH }}
        viewBox={`0 0 ${VB_W} ${plotH}`}
        preserveAspectRatio="none"
        aria-hidden
      >
        <path
          d={[...yTicks.map((v) => `M0,${y(v).toFixed(1)}H${VB_W}`), ...xTicks.map((v) => `M${x(v).toFixed(1)},0V${plotH}`)].join("")}
          stroke="var(--chart-grid)"
          strokeDasharray="3 3"
          fill="none"
        />
        <path d={`M0,0V${plotH}H${VB_W}`} stroke="var(--chart-axis)" fill="none" />
        {props.children({ x, y })}
        {props.refLines?.map((r) => (
          <path
            key={`${r.axis}${r.value}${r.className ?? ""}`}
            className={r.className}
            d={r.axis === "y" ? `M0,${y(r.value).toFixed(1)}H${VB_W}` : `M${x(r.value).toFixed(1)},0V${plotH}`}
            stroke={r.color}
            strokeWidth={r.width ?? 1}
            strokeDasharray={r.dash}
            fill="none"
          />
        ))}
        {hi != null && <path d={`M${x(props.xs[hi]).toFixed(1)},0V${plotH}`} stroke="var(--chart-axis)" strokeOpacity={0.6} fill="none" />}
      </svg>
      {yTicks.map((v) => (
        <span
          key={`y${v}`}
          className="absolute -translate-y-1/2 text-right text-[11px] leading-none text-[var(--chart-axis)]"
          style={{ left: 0, width: m.left - 6, top: m.top + y(v) }}
        >
          {props.yFormat(v)}
        </span>
      ))}
      {xTicks.map((v) => (
        <span
          key={`x${v}`}
          className="absolute -translate-x-1/2 text-[11px] leading-none text-[var(--chart-axis)]"
          style={{ left: leftOf(v), top: m.top + plotH + 6 }}
        >
          {v}
        </span>
      ))}
      {props.xLabel && (
        <span className="absolute text-[11px] leading-none text-[var(--chart-axis)]" style={{ right: m.right, top: m.top + plotH + 18 }}>
          {props.xLabel}
        </span>
      )}
      {props.refLines?.map((r) =>
        r.label ? (
          <span
            key={`label-${r.axis}${r.value}${r.className ?? ""}`}
            className="pointer-events-none absolute whitespace-nowrap text-[10px] font-semibold leading-none"
            style={
              r.axis === "y"
                ? { left: m.left + 4, top: m.top + y(r.value) - 12, color: r.labelColor ?? r.color }
                : { left: leftOf(r.value), top: m.top + 2, transform: "translateX(calc(-100% - 4px))", color: r.labelColor ?? r.color }
            }
          >
            {r.label}
          </span>
        ) : null,
      )}
      {dot && (
        <span
          aria-hidden
          className="pointer-events-none absolute h-1.5 w-1.5 -translate-x-1/2 -translate-y-1/2 rounded-full"
          style={{ left: leftOf(props.xs[hi!]), top: m.top + y(dot.y), background: dot.color }}
        />
      )}
      {hover && props.tooltip && (
        <div
          className="pointer-events-none absolute z-20 min-w-40 rounded-md border border-line bg-surface px-3 py-2 text-xs shadow-lg"
          style={{ left: Math.min(hover.mx + 14, Math.max(0, hover.w - 230)), top: Math.min(hover.my + 14, height - 40) }}
        >
          {props.tooltip(hover.i)}
        </div>
      )}
    </div>
  );
}
