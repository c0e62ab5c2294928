"use client";

import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { serverHeatmapPreview } from "@/lib/ui/heatmapPreview";
import type { CanvasTheme } from "./useCanvasTheme";

/**
 * HeatmapCanvasProps: a rows x cols grid of colours drawn on one canvas (fast for 256 x 64 and more), with its
 * labels as HTML.
 */
export interface HeatmapCanvasProps {
  rows: number;
  cols: number;
  colorAt: (row: number, col: number) => string;
  /**
   * The cell's shade on the heat scale (utilizationShade / imbalanceShade), the theme-independent value
   * behind `colorAt`. When given, the server renders the cells as images (lib/ui/heatmapPreview.ts) that
   * show until the canvas has drawn.
   */
  shadeAt?: (row: number, col: number) => number;
  deadAt?: (row: number, col: number) => boolean;
  rowLabel: (row: number) => string;
  colLabel: (col: number) => string;
  /** Axis caption under the columns. */
  colAxis: string;
  cellHeight: number;
  theme: CanvasTheme;
  tooltip: (row: number, col: number) => ReactNode;
  onCellClick?: (row: number, col: number) => void;
  highlightRow?: number | null;
  highlightCol?: number | null;
  ariaLabel: string;
  testId: string;
}

const LEFT = 48;
const RIGHT = 4;
const TOP = 2;
const BOTTOM = 30;
/** The width column ticks are spaced for until the element has been measured (server render, hydration). */
const UNMEASURED_WIDTH = 960;

/**
 * HeatmapCanvas draws the grid on a canvas and shows a tooltip for the cell under the pointer. Row labels and
 * column ticks are HTML, and until the canvas has drawn, the server's images of the cells (when `shadeAt` is
 * given) stand in its place, so a server-rendered page shows the heatmap before its scripts have run.
 */
export function HeatmapCanvas(props: HeatmapCanvasProps) {
  const { rows, cols, cellHeight, theme } = props;
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<{ row: number; col: number; x: number; y: number } | null>(null);
  const [drawn, setDrawn] = useState(false);
  const height = TOP + rows * cellHeight + BOTTOM;
  // Computed while rendering on the server only. In the browser the src stays undefined: hydration keeps the
  // server's attribute (React does not patch attributes when hydrating) until the canvas has drawn.
  const preview = drawn || !props.shadeAt ? null : serverHeatmapPreview(rows, cols, props.shadeAt);

  useLayoutEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver((entries) => setWidth(Math.floor(entries[0].contentRect.width)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const gridW = Math.max(0, width - LEFT - RIGHT);
  const colX = (c: number) => LEFT + Math.floor((c * gridW) / Math.max(cols, 1));

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || width === 0) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.floor(width * dpr);
    canvas.height = Math.floor(height * dpr);
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);

    if (!fillCells(ctx, props, dpr, gridW, colX)) {
      for (let r = 0; r < rows; r++) {
        const y = TOP + r * cellHeight;
        for (let c = 0; c < cols; c++) {
          const x0 = colX(c);
          ctx.fillStyle = props.colorAt(r, c);
          ctx.fillRect(x0, y, Math.max(1, colX(c + 1) - x0), cellHeight);
        }
      }
    }
    if (props.deadAt && cellHeight >= 6) {
      // Dead experts get an X so they read as "no tokens" even where dead and cold look alike.
      ctx.strokeStyle = theme.palette.neutral;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let r = 0; r < rows; r++) {
        const y = TOP + r * cellHeight;
        for (let c = 0; c < cols; c++) {
          const x0 = colX(c);
          const x1 = colX(c + 1);
          if (x1 - x0 < 6 || !props.deadAt(r, c)) continue;
          ctx.moveTo(x0 + 2, y + 2);
          ctx.lineTo(x1 - 2, y + cellHeight - 2);
          ctx.moveTo(x1 - 2, y + 2);
          ctx.lineTo(x0 + 2, y + cellHeight - 2);
        }
      }
      ctx.stroke();
    }
    // Thin separators between rows when rows are tall enough to be read one by one.
    if (cellHeight >= 10 && cols > 0) {
      ctx.fillStyle = theme.surface;
      for (let r = 1; r < rows; r++) ctx.fillRect(LEFT, TOP + r * cellHeight - 0.5, gridW, 1);
    }

    ctx.strokeStyle = theme.fg;
    ctx.lineWidth = 1.5;
    if (props.highlightRow != null && props.highlightRow >= 0 && props.highlightRow < rows) {
      ctx.strokeRect(LEFT - 0.5, TOP + props.highlightRow * cellHeight + 0.5, gridW + 1, cellHeight - 1);
    }
    if (props.highlightCol != null && props.highlightCol >= 0 && props.highlightCol < cols) {
      const x0 = colX(props.highlightCol);
      ctx.strokeRect(x0 - 0.5, TOP + 0.5, Math.max(2, colX(props.highlightCol + 1) - x0) + 1, rows * cellHeight - 1);
    }
    // Set on the element directly (no re-render): tests and the page-load bench wait for the drawn grid.
    canvas.dataset.drawn = `${rows}x${cols}`;
    setDrawn(true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props, width, height]);

  function cellAt(ev: React.MouseEvent<HTMLCanvasElement>) {
    const rect = ev.currentTarget.getBoundingClientRect();
    const x = ev.clientX - rect.left;
    const y = ev.clientY - rect.top;
    if (x < LEFT || x >= LEFT + gridW || y < TOP || y >= TOP + rows * cellHeight) return null;
    const col = Math.min(cols - 1, Math.floor(((x - LEFT) * cols) / gridW));
    const row = Math.min(rows - 1, Math.floor((y - TOP) / cellHeight));
    return { row, col, x, y };
  }

  const hoverBox =
    hover && gridW > 0
      ? { left: colX(hover.col), top: TOP + hover.row * cellHeight, w: Math.max(2, colX(hover.col + 1) - colX(hover.col)) }
      : null;

  const rowEvery = Math.max(1, Math.ceil(12 / cellHeight));
  const colEvery = Math.max(1, Math.ceil((44 * cols) / Math.max(1, (width || UNMEASURED_WIDTH) - LEFT - RIGHT)));
  const yAxis = TOP + rows * cellHeight + 4;
  /** CSS x of a fraction of the grid's width (the grid spans the element minus LEFT and RIGHT). */
  const gridX = (fraction: number) => `calc(${LEFT}px + (100% - ${LEFT + RIGHT}px) * ${fraction})`;

  return (
    <div ref={wrapRef} className="relative w-full select-none text-[11px] leading-none text-muted" style={{ height }}>
      {!drawn && (
        <div
          aria-hidden
          className="pointer-events-none absolute"
          style={{ left: LEFT, right: RIGHT, top: TOP, height: rows * cellHeight }}
          data-testid={`${props.testId}-preview`}
        >
          {/* alt="" and aria-hidden: the canvas carries the accessible name. */}
          <img alt="" src={preview?.light} suppressHydrationWarning className="block size-full dark:hidden" style={{ imageRendering: "pixelated" }} />
          <img alt="" src={preview?.dark} suppressHydrationWarning className="hidden size-full dark:block" style={{ imageRendering: "pixelated" }} />
        </div>
      )}
      <div aria-hidden className="pointer-events-none absolute left-0 top-0" style={{ width: LEFT - 6 }} data-testid={`${props.testId}-row-labels`}>
        {Array.from({ length: Math.ceil(rows / rowEvery) }, (_, i) => i * rowEvery).map((r) => (
          <span key={r} className="absolute right-0 -translate-y-1/2 whitespace-nowrap" style={{ top: TOP + r * cellHeight + cellHeight / 2 }}>
            {props.rowLabel(r)}
          </span>
        ))}
      </div>
      <div aria-hidden className="pointer-events-none absolute inset-x-0" style={{ top: yAxis - 4 }} data-testid={`${props.testId}-col-labels`}>
        {Array.from({ length: Math.ceil(cols / colEvery) }, (_, i) => i * colEvery).map((c) => (
          <span key={c} className="absolute top-0 flex -translate-x-1/2 flex-col items-center whitespace-nowrap" style={{ left: gridX((c + 0.5) / cols) }}>
            <span className="mb-px h-[3px] w-px bg-current" />
            {props.colLabel(c)}
          </span>
        ))}
        <span className="absolute -translate-x-1/2 whitespace-nowrap" style={{ left: gridX(0.5), top: 17 }}>
          {props.colAxis}
        </span>
      </div>
      <canvas
        ref={canvasRef}
        role="img"
        aria-label={props.ariaLabel}
        data-testid={`${props.testId}-canvas`}
        style={{ width: "100%", height, cursor: props.onCellClick ? "pointer" : "crosshair" }}
        onMouseMove={(ev) => setHover(cellAt(ev))}
        onMouseLeave={() => setHover(null)}
        onClick={(ev) => {
          const cell = cellAt(ev);
          if (cell && props.onCellClick) props.onCellClick(cell.row, cell.col);
        }}
      />
      {hover && hoverBox && (
        <>
          <div
            aria-hidden
            className="pointer-events-none absolute border-2 border-fg"
            style={{ left: hoverBox.left - 1, top: hoverBox.top - 1, width: hoverBox.w + 2, height: cellHeight + 2 }}
          />
          <div
            role="tooltip"
            data-testid={`${props.testId}-tooltip`}
            className="pointer-events-none absolute z-20 min-w-44 rounded-md border border-line bg-surface px-3 py-2 text-xs shadow-lg"
            style={{
              left: Math.min(hover.x + 14, Math.max(0, width - 200)),
              top: hover.y + 14,
            }}
          >
            {props.tooltip(hover.row, hover.col)}
          </div>
        </>
      )}
    </div>
  );
}

/** rgbaOf parses "#rrggbb" / "#rgb" into a little-endian RGBA pixel (alpha 255), or null for any other form. */
function rgbaOf(color: string, cache: Map<string, number | null>): number | null {
  let v = cache.get(color);
  if (v !== undefined) return v;
  v = null;
  const hex = /^#([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(color.trim())?.[1];
  if (hex) {
    const full = hex.length === 3 ? hex.replace(/./g, (d) => d + d) : hex;
    const n = parseInt(full, 16);
    v = (0xff << 24) | ((n & 0xff) << 16) | (n & 0xff00) | ((n >> 16) & 0xff);
  }
  cache.set(color, v);
  return v;
}

/**
 * fillCells paints every cell into one ImageData of the grid's device pixels and puts it at once: a
 * 64 x 240 grid is 15k fillRect calls, each parsing its fillStyle, which was most of a heatmap's draw.
 * Cell edges are the same pixels fillRect would cover. Returns false (nothing drawn) when a colour is not
 * a hex colour or the platform is big-endian, so the caller draws cell by cell instead.
 */
function fillCells(ctx: CanvasRenderingContext2D, props: HeatmapCanvasProps, dpr: number, gridW: number, colX: (c: number) => number): boolean {
  const { rows, cols, cellHeight } = props;
  const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  const w = Math.round((LEFT + gridW) * dpr) - Math.round(LEFT * dpr);
  const h = Math.round((TOP + rows * cellHeight) * dpr) - Math.round(TOP * dpr);
  if (rows === 0 || cols === 0 || w <= 0 || h <= 0) return true;
  if (!littleEndian) return false;
  const image = ctx.createImageData(w, h);
  const px = new Uint32Array(image.data.buffer);
  const cache = new Map<string, number | null>();
  const x0 = Math.round(LEFT * dpr);
  const y0 = Math.round(TOP * dpr);
  // Column and row edges in device pixels, relative to the image.
  const xs = Array.from({ length: cols + 1 }, (_, c) => Math.min(w, Math.round(colX(c) * dpr) - x0));
  const ys = Array.from({ length: rows + 1 }, (_, r) => Math.min(h, Math.round((TOP + r * cellHeight) * dpr) - y0));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = rgbaOf(props.colorAt(r, c), cache);
      if (v === null) return false;
      const a = xs[c];
      const b = Math.max(a + 1, xs[c + 1]);
      for (let y = ys[r]; y < ys[r + 1]; y++) px.fill(v, y * w + a, y * w + Math.min(b, w));
    }
  }
  ctx.putImageData(image, x0, y0);
  return true;
}

