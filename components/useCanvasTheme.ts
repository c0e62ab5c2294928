"use client";

import { useEffect, useState } from "react";
import { LIGHT_HEAT_PALETTE, type HeatPalette } from "@/lib/ui/utilizationColor";

/** CanvasTheme: theme tokens resolved to concrete colours, for drawing on a canvas. */
export interface CanvasTheme {
  palette: HeatPalette;
  fg: string;
  muted: string;
  line: string;
  surface: string;
}

const FALLBACK: CanvasTheme = { palette: LIGHT_HEAT_PALETTE, fg: "#161b22", muted: "#5b6472", line: "#dde1e7", surface: "#ffffff" };

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
    muted: v("--muted", FALLBACK.muted),
    line: v("--line", FALLBACK.line),
    surface: v("--surface", FALLBACK.surface),
  };
}

/** useCanvasTheme reads the --heat-* and text tokens from the document and follows theme switches. */
export function useCanvasTheme(): CanvasTheme {
  const [theme, setTheme] = useState<CanvasTheme>(FALLBACK);
  useEffect(() => {
    const update = () => setTheme(read());
    update();
    const obs = new MutationObserver(update);
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
    return () => obs.disconnect();
  }, []);
  return theme;
}
