"use client";

import { useState } from "react";

/** CopyButton copies `text` to the clipboard and says so for two seconds. */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <button
      type="button"
      data-testid="copy-button"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setState("copied");
        } catch {
          setState("failed");
        }
        setTimeout(() => setState("idle"), 2_000);
      }}
      className="rounded border border-line bg-surface px-2 py-0.5 text-[11px] text-muted hover:bg-surface-2 hover:text-fg"
    >
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed (select the text)" : label}
    </button>
  );
}
