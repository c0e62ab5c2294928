/**
 * Turns a builder's intent (a changed configuration and the flags that express it) into a Suggestion:
 * fills each change's current value from the launch arguments, drops changes that change nothing,
 * applies them, renders the diff and validates the changed configuration.
 */
import type { RunConfig } from "../types";
import type { ConfigViolation } from "../validateRunConfig";
import { applyFlagChanges, argsDiff, readFlag } from "./applyFlagChanges";
import type { AdvisorContext } from "./createAdvisorContext";
import type { Suggestion, SuggestionKind } from "./types";
import { validateSuggestion } from "./validateSuggestion";

/** SuggestionDraft: what a builder decides; buildSuggestion derives the rest. */
export interface SuggestionDraft {
  id: string;
  kind: SuggestionKind;
  title: string;
  configAfter: RunConfig;
  /** Flag -> new value (null removes, "" is a switch). */
  set: Array<[flag: string, to: string | null]>;
  rationale: string;
  cost: string;
  numbers: Record<string, number | string | null>;
  score: number;
  /** Advisor warnings to list with the validation result (never errors: those come from validateSuggestion). */
  warnings?: ConfigViolation[];
}

/** buildSuggestion completes a draft against the context's launch arguments and validates the changed configuration for the run's cluster. */
export function buildSuggestion(ctx: AdvisorContext, draft: SuggestionDraft): Suggestion {
  const changes = draft.set
    .map(([flag, to]) => ({ flag, from: readFlag(ctx.baseArgs, flag), to }))
    .filter((c) => c.from !== c.to);
  const argsAfter = applyFlagChanges(ctx.baseArgs, changes);
  const violations = [...validateSuggestion(draft.configAfter, { worldSize: ctx.world, gpusPerNode: ctx.gpusPerNode }), ...(draft.warnings ?? [])];
  return {
    id: draft.id,
    kind: draft.kind,
    title: draft.title,
    changes,
    argsAfter,
    diff: argsDiff(ctx.baseArgs, argsAfter),
    rationale: draft.rationale,
    cost: draft.cost,
    valid: !violations.some((v) => v.severity === "error"),
    violations,
    numbers: draft.numbers,
    score: draft.score,
  };
}
