"use client";

import { useSyncExternalStore } from "react";
import { LIGHT_HEAT_PALETTE, type HeatPalette } from "@/lib/ui/utilizationColor";

/** CanvasTheme: theme tokens resolved to concrete colours, for drawing on a canvas. */
export interface CanvasTheme {
  palette: HeatPalette;
  fg: string;
  line: string;
  surface: string;
}

const FALLBACK: CanvasTheme = { palette: LIGHT_HEAT_PALETTE, fg: "#161b22", line: "#dde1e7", surface: "#ffffff" };

function read(): CanvasTheme {
  const s = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => s.getPropertyValue(name).trim() || fallback;
  return {
    palette: {
      cold: v("--heat-cold", FALLBACK.palette.cold),
      neutral: v("--heat-neutral", FALLBACK.palette.neutral),
      hot: v("--heat-hot", FALLBACK.palette.hot),
      dead: v("--heat-dead", FALLBACK.palette.dead),
      empty: v("--heat-empty", FALLBACK.palette.empty),
    },
    fg: v("--fg", FALLBACK.fg),
    line: v("--line", FALLBACK.line),
    surface: v("--surface", FALLBACK.surface),
  };
}

const FALLBACK_KEY = keyOf(FALLBACK);

function keyOf(t: CanvasTheme): string {
  return [t.palette.cold, t.palette.neutral, t.palette.hot, t.palette.dead, t.palette.empty, t.fg, t.line, t.surface].join(" ");
}

// The theme read from the document, re-read only when <html>'s class (light/dark) changes.
let current: { cls: string; key: string; theme: CanvasTheme } | null = null;
function documentTheme() {
  const cls = document.documentElement.className;
  if (!current || current.cls !== cls) {
    const theme = read();
    current = { cls, key: keyOf(theme), theme };
  }
  return current;
}

function subscribe(onChange: () => void): () => void {
  const obs = new MutationObserver(onChange);
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  return () => obs.disconnect();
}

/**
 * useCanvasTheme reads the --heat-* and text tokens from the document and follows theme switches. The
 * server renders with the light tokens; hydration starts from them too and re-renders only when the
 * document's tokens differ (dark theme), so a light page prepares and draws its heatmaps once, not twice.
 */
export function useCanvasTheme(): CanvasTheme {
  const key = useSyncExternalStore(subscribe, () => documentTheme().key, () => FALLBACK_KEY);
  return key === FALLBACK_KEY ? FALLBACK : documentTheme().theme;
}
