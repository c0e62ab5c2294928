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
  // The site header above is sticky and its height varies (notices such as "ingest authentication is off"):
  // sit right under it, wherever its bottom is.
  const [top, setTop] = useState(48);
  useEffect(() => {
    const header = document.querySelector("body > header");
    if (!header) return;
    const measure = () => setTop(Math.round(header.getBoundingClientRect().height));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(header);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    // The section being read is the last one whose top has passed under the sticky bars.
    let frame = 0;
    const pick = () => {
      frame = 0;
      // Sections scroll to 144 px (scroll-mt-36) from the top; the line sits just under that for every header height.
      const line = Math.max(top + 100, 150);
      let id: string = RUN_SECTIONS[0].id;
      for (const sec of RUN_SECTIONS) {
        const el = document.getElementById(sec.id);
        if (el && el.getBoundingClientRect().top <= line) id = sec.id;
      }
      setCurrent(id);
    };
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(pick);
    };
    pick();
    window.addEventListener("scroll", onScroll, { passive: true });
    return () => {
      window.removeEventListener("scroll", onScroll);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [top]);
  return (
    <nav
      aria-label="Run sections"
      data-testid="run-section-nav"
      style={{ top }}
      className="sticky z-20 -mx-4 flex flex-wrap items-center gap-1 border-b border-line bg-bg/95 px-4 py-1.5 text-sm backdrop-blur"
    >
      {RUN_SECTIONS.map((s) => (
        <a
          key={s.id}
          href={`#${s.id}`}
          data-testid={`section-link-${s.id}`}
          aria-current={current === s.id ? "location" : undefined}
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
