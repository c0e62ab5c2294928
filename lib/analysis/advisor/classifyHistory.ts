/**
 * Reads the imbalance history the way the advice needs it: has the run been balanced for a whole
 * window (revert a temporary mitigation), or is it still imbalanced after early training (router
 * levers)? A step counts as balanced when every measured value is below its threshold; a step with
 * neither value measured proves nothing and breaks a stable window. EP imbalance is null with EP = 1
 * or no EP counts, so MaxVio alone then decides.
 */
import type { AdvisorOptions, HistoryPoint } from "./types";

/** HistoryVerdict: what the history says at `step`. */
export interface HistoryVerdict {
  /** Every point in (step - window, step] is balanced and the history reaches back to the window's start. */
  stable: boolean;
  /** Steps of the window still to be observed balanced before `stable` can hold (0 when stable). */
  stepsUntilStable: number;
  /** Past early training, with more than half of the window's points and the latest one imbalanced. */
  persisting: boolean;
  /** The z-loss trend over the window (least-squares slope per step), null with fewer than 3 z-loss values. */
  zLossSlope: number | null;
  pointsInWindow: number;
}

/** isImbalanced tells whether one history point is above either threshold (null when nothing was measured). */
export function isImbalanced(p: HistoryPoint, opts: Pick<AdvisorOptions, "stableEpImbalance" | "stableMaxVio">): boolean | null {
  if (p.epImbalance === null && p.maxVio === null) return null;
  return (p.epImbalance !== null && p.epImbalance >= opts.stableEpImbalance) || (p.maxVio !== null && p.maxVio >= opts.stableMaxVio);
}

/** classifyHistory decides whether the run has been stable for the configured window and whether imbalance persists past early training. */
export function classifyHistory(history: HistoryPoint[], step: number, opts: AdvisorOptions): HistoryVerdict {
  const windowStart = step - opts.stableWindowSteps + 1;
  const upToStep = history.filter((p) => p.step <= step);
  const window = upToStep.filter((p) => p.step >= windowStart);
  const verdicts = window.map((p) => isImbalanced(p, opts));

  // The last step that was not balanced (or unmeasured) starts the wait again.
  let lastBad = Number.NEGATIVE_INFINITY;
  for (const p of upToStep) if (isImbalanced(p, opts) !== false) lastBad = Math.max(lastBad, p.step);
  const firstStep = upToStep.length > 0 ? upToStep[0].step : Number.POSITIVE_INFINITY;
  // Balanced since max(lastBad + 1, firstStep); stable once that is at or before the window's start.
  const balancedSince = Math.max(lastBad + 1, firstStep);
  const stable = window.length > 0 && verdicts.every((v) => v === false) && balancedSince <= windowStart;
  const stepsUntilStable = stable ? 0 : Number.isFinite(balancedSince) ? Math.max(1, balancedSince - windowStart) : opts.stableWindowSteps;

  const bad = verdicts.filter((v) => v === true).length;
  const latest = window.length > 0 ? verdicts[verdicts.length - 1] : null;
  const persisting = step > opts.earlyTrainingSteps && latest === true && bad * 2 > window.length;

  const z = window.filter((p) => p.zLoss !== undefined && p.zLoss !== null && Number.isFinite(p.zLoss)) as Array<HistoryPoint & { zLoss: number }>;
  let zLossSlope: number | null = null;
  if (z.length >= 3) {
    const mx = z.reduce((a, p) => a + p.step, 0) / z.length;
    const my = z.reduce((a, p) => a + p.zLoss, 0) / z.length;
    let sxx = 0;
    let sxy = 0;
    for (const p of z) {
      sxx += (p.step - mx) ** 2;
      sxy += (p.step - mx) * (p.zLoss - my);
    }
    zLossSlope = sxx > 0 ? sxy / sxx : null;
  }
  return { stable, stepsUntilStable, persisting, zLossSlope, pointsInWindow: window.length };
}
