"use client";
import { useEffect, useState } from "react";
import type { AdviceInput } from "@/lib/ui/prepareAdvice";
import type { AlertGroupItem } from "@/lib/ui/prepareAlerts";
import { AdvicePanel } from "./AdvicePanel";
import { afterPageLoad } from "./afterPageLoad";

/**
 * DeferredAdvice loads the advice after the page has painted (and its streamed panels have arrived). Computing it reads imbalance
 * history and per-rank counts (tens of milliseconds on a 100k-step run, synchronously in the server's SQLite
 * driver), so rendering it with the page would hold back the charts; the server caches it per step (lib/web/data/adviceCache.ts), so
 * later views get it at once. It asks for the page's snapshot step (pinned, or the newest complete step the
 * page was rendered at), never "the latest", so the advice and the banner next to it speak of one step;
 * refetched when that step changes.
 */
export function DeferredAdvice({ runId, step, firing }: { runId: string; step: number | null; firing: AlertGroupItem[] }) {
  const [state, setState] = useState<{ key: string; advice: AdviceInput | null; error: string | null } | null>(null);
  const key = `${runId}/${step ?? ""}`;
  useEffect(() => {
    const ctl = new AbortController();
    afterPageLoad()
      .then(() => fetch(`/api/runs/${encodeURIComponent(runId)}/advice${step == null ? "" : `?step=${step}`}`, { signal: ctl.signal }))
      .then(async (res) => {
        if (!res.ok) throw new Error(`advice: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
        setState({ key, advice: (await res.json()) as AdviceInput, error: null });
      })
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setState({ key, advice: null, error: err instanceof Error ? err.message : String(err) });
      });
    return () => ctl.abort();
  }, [runId, step, key]);
  if (state?.error) {
    return (
      <section id="advice" className="scroll-mt-36 rounded-lg border border-line bg-surface p-4 text-sm text-muted" data-testid="advice-error">
        Advice could not be loaded: {state.error}
      </section>
    );
  }
  // Until the first answer the placeholder holds the panel's place (and the #advice anchor); on later
  // refetches the previous advice stays on screen.
  if (!state) {
    return (
      <section id="advice" className="scroll-mt-36 rounded-lg border border-line bg-surface p-4 text-sm text-muted" data-testid="advice-loading" aria-busy="true">
        Working out mitigation advice…
      </section>
    );
  }
  return <AdvicePanel advice={state.advice} firing={firing} updatingTo={state.key === key ? null : step} />;
}
