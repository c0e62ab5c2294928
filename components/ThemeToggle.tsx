"use client";

import { useEffect, useState } from "react";

type ThemeChoice = "system" | "light" | "dark";

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: "light", light: "dark", dark: "system" };
const LABEL: Record<ThemeChoice, string> = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };
const ICON: Record<ThemeChoice, string> = { system: "◐", light: "☀", dark: "☾" };

declare global {
  interface Window {
    __applyTheme?: () => void;
  }
}

/** ThemeToggle cycles system -> light -> dark; the choice is kept in localStorage and applied by the layout script. */
export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>("system");

  useEffect(() => {
    const stored = readStored();
    setChoice(stored);
  }, []);

  function cycle() {
    const next = NEXT[choice];
    try {
      if (next === "system") localStorage.removeItem("theme");
      else localStorage.setItem("theme", next);
    } catch {
      // Storage can be unavailable (private mode); the class below still applies for this page.
    }
    setChoice(next);
    if (window.__applyTheme) window.__applyTheme();
    else document.documentElement.classList.toggle("dark", next === "dark");
  }

  return (
    <button
      type="button"
      onClick={cycle}
      className="flex items-center gap-1.5 rounded-md border border-line px-2 py-1 text-xs text-muted hover:bg-surface-2 hover:text-fg"
      aria-label={`${LABEL[choice]} (click to change)`}
      title={LABEL[choice]}
      data-testid="theme-toggle"
    >
      <span aria-hidden>{ICON[choice]}</span>
      <span>{choice}</span>
    </button>
  );
}

function readStored(): ThemeChoice {
  try {
    const v = localStorage.getItem("theme");
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}
