"use client";

import { useState } from "react";
import { useSearchParamsUpdater } from "./useSearchParamsUpdater";

/** StepControls edits the step pinned for the layer heatmap and the from/to step range of the charts (in the URL). */
export function StepControls({
  step,
  from,
  to,
  lastStep,
}: {
  step: number | null;
  from: number | null;
  to: number | null;
  lastStep: number | null;
}) {
  const [update, pending] = useSearchParamsUpdater();
  const [stepText, setStepText] = useState(step != null ? String(step) : "");
  const [fromText, setFromText] = useState(from != null ? String(from) : "");
  const [toText, setToText] = useState(to != null ? String(to) : "");
  const parse = (s: string) => (s.trim() === "" || Number.isNaN(Number(s)) ? null : Math.max(0, Math.floor(Number(s))));
  const input = "w-20 shrink-0 rounded border border-line bg-bg px-2 py-1 text-xs";
  const button = "rounded border border-line px-2 py-1 text-xs hover:bg-surface-2";

  return (
    <div className="flex flex-wrap items-center gap-x-6 gap-y-2 text-xs" data-testid="step-controls" aria-busy={pending}>
      <form
        className="flex items-center gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          update({ step: parse(stepText) });
        }}
      >
        <label htmlFor="step-input" className="text-muted">
          Heatmap step
        </label>
        <input
          id="step-input"
          // Wide enough for "latest (123456)": the placeholder was clipped at "latest (360".
          className={input.replace("w-20", "w-32")}
          inputMode="numeric"
          placeholder={lastStep != null ? `latest (${lastStep})` : "latest"}
          value={stepText}
          onChange={(e) => setStepText(e.target.value)}
        />
        <button type="submit" className={button}>
          Show
        </button>
        <button
          type="button"
          className={button}
          disabled={step == null}
          onClick={() => {
            setStepText("");
            update({ step: null });
          }}
        >
          Follow latest
        </button>
      </form>
      <form
        className="flex items-center gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          update({ from: parse(fromText), to: parse(toText) });
        }}
      >
        <span className="text-muted">Steps</span>
        <label className="sr-only" htmlFor="from-input">
          from step
        </label>
        <input id="from-input" className={input} inputMode="numeric" placeholder="from" value={fromText} onChange={(e) => setFromText(e.target.value)} />
        <span className="text-muted">–</span>
        <label className="sr-only" htmlFor="to-input">
          to step
        </label>
        <input id="to-input" className={input} inputMode="numeric" placeholder="to" value={toText} onChange={(e) => setToText(e.target.value)} />
        <button type="submit" className={button}>
          Apply
        </button>
        <button
          type="button"
          className={button}
          disabled={from == null && to == null}
          onClick={() => {
            setFromText("");
            setToText("");
            update({ from: null, to: null });
          }}
        >
          All steps
        </button>
      </form>
    </div>
  );
}
