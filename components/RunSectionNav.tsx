"use client";

import { useEffect, useState } from "react";

/** RUN_SECTIONS: the run page's sections, in page order; each id is a URL fragment (/runs/x#capacity). */
export const RUN_SECTIONS = [
  { id: "overview", label: "Overview" },
  { id: "load", label: "Load" },
  { id: "capacity", label: "Capacity" },
  { id: "losses", label: "Losses" },
  { id: "heatmaps", label: "Heatmaps" },
  { id: "configuration", label: "Configuration" },
] as const;

/**
 * RunSectionNav: sticky links to the run page's sections (the page is ~6,000 px tall at 1600 px wide) and
 * the one step every panel shows. Links are plain fragments, so a section can be shared by URL and the
 * browser scrolls to it on load; the section in view is marked as current.
 */
export function RunSectionNav({ step, pinned }: { step: number | null; pinned: boolean }) {
  const [current, setCurrent] = useState<string>("overview");
  useEffect(() => {
    const els = RUN_SECTIONS.map((s) => document.getElementById(s.id)).filter((e): e is HTMLElement => e !== null);
    // The section whose top most recently passed under the sticky bars is the one being read.
    const io = new IntersectionObserver(
      (entries) => {
        const visible = entries.filter((e) => e.isIntersecting).sort((a, b) => a.boundingClientRect.top - b.boundingClientRect.top);
        if (visible[0]) setCurrent(visible[0].target.id);
      },
      { rootMargin: "-100px 0px -60% 0px" },
    );
    for (const el of els) io.observe(el);
    return () => io.disconnect();
  }, []);
  return (
    <nav
      aria-label="Run sections"
      data-testid="run-section-nav"
      className="sticky top-12 z-20 -mx-4 flex flex-wrap items-center gap-1 border-b border-line bg-bg/95 px-4 py-1.5 text-sm backdrop-blur"
    >
      {RUN_SECTIONS.map((s) => (
        <a
          key={s.id}
          href={`#${s.id}`}
          data-testid={`section-link-${s.id}`}
          aria-current={current === s.id ? "location" : undefined}
          onClick={() => setCurrent(s.id)}
          className={`rounded px-2 py-0.5 ${current === s.id ? "bg-surface-2 font-medium text-fg" : "text-muted hover:text-fg"}`}
        >
          {s.label}
        </a>
      ))}
      <span className="ml-auto text-xs text-muted" data-testid="section-nav-step">
        {step === null ? "no steps yet" : `${pinned ? "pinned at" : "showing"} step ${step}`}
      </span>
    </nav>
  );
}
