/**
 * Hysteresis for the advisor's headline suggestion of each kind. Per-step counts are noisy in early
 * training: the best capacity factor went 2.0 at step 50, 1.25 at step 128 and back, and a launch
 * change that flips between refreshes is not advice anyone can act on. The suggestion shown first
 * (the "held" one) changes only when another beats it by `margin` score points on every evaluation
 * for `windowSteps` steps. The advisor stays pure: the caller passes the previous holds in and keeps
 * the ones returned.
 */
import type { Suggestion, SuggestionKind } from "./types";

/** SuggestionHold: which suggestion of a kind is shown first, since when, and who is challenging it. */
export interface SuggestionHold {
  id: string;
  sinceStep: number;
  challenger: { id: string; sinceStep: number } | null;
}

/** SuggestionHolds: the holds of one run, per kind, as of `step`. */
export interface SuggestionHolds {
  step: number;
  byKind: Partial<Record<SuggestionKind, SuggestionHold>>;
}

/** HysteresisOptions: how much better, for how many steps, a challenger must be. */
export interface HysteresisOptions {
  margin: number;
  windowSteps: number;
}

/** DEFAULT_HYSTERESIS: 5 score points (a quarter of the full EP-relief credit, or 5% more drops) for 50 steps. */
export const DEFAULT_HYSTERESIS: HysteresisOptions = { margin: 5, windowSteps: 50 };

/**
 * holdBestSuggestions reorders `suggestions` (already sorted by kind, validity, score) so each kind's held
 * suggestion comes first, and returns the new holds and a note per kind whose ranking was overridden.
 * Holds from a later step than `step` (someone looking back) are ignored: looking back is stateless.
 */
export function holdBestSuggestions(
  suggestions: readonly Suggestion[],
  prev: SuggestionHolds | null,
  step: number,
  o: HysteresisOptions = DEFAULT_HYSTERESIS,
): { suggestions: Suggestion[]; holds: SuggestionHolds; notes: string[] } {
  const usable = prev !== null && prev.step <= step ? prev : null;
  const kinds = [...new Set(suggestions.map((s) => s.kind))];
  const byKind: SuggestionHolds["byKind"] = {};
  const notes: string[] = [];
  const out: Suggestion[] = [];
  for (const kind of kinds) {
    const list = suggestions.filter((s) => s.kind === kind);
    const top = list[0];
    const held = usable?.byKind[kind];
    const incumbent = held ? list.find((s) => s.id === held.id) : undefined;
    let first = top;
    if (!held || !incumbent || (!incumbent.valid && top.valid)) {
      byKind[kind] = { id: top.id, sinceStep: step, challenger: null };
    } else if (top.id === incumbent.id || top.score < incumbent.score + o.margin) {
      byKind[kind] = { ...held, challenger: null };
      first = incumbent;
    } else {
      const challenger = held.challenger?.id === top.id ? held.challenger : { id: top.id, sinceStep: step };
      if (step - challenger.sinceStep >= o.windowSteps) {
        byKind[kind] = { id: top.id, sinceStep: step, challenger: null };
      } else {
        byKind[kind] = { ...held, challenger };
        first = incumbent;
        notes.push(
          `${kind}: still showing "${incumbent.title}" first (since step ${held.sinceStep}); "${top.title}" scores ${(top.score - incumbent.score).toFixed(1)} higher since step ${challenger.sinceStep} and replaces it if it stays ${o.margin} ahead until step ${challenger.sinceStep + o.windowSteps}`,
        );
      }
    }
    out.push(first, ...list.filter((s) => s !== first));
  }
  return { suggestions: out, holds: { step, byKind }, notes };
}
