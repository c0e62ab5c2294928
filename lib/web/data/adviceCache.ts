/**
 * The advisor's answer cached per (run, step): the run page asks for it on every view and every live
 * refresh, and computing it reads the advisor's window of imbalance history and 40 steps of per-rank
 * counts (tens of milliseconds at 100k steps, on the dashboard's synchronous SQLite driver). The answer for a step only changes when reports of that step or earlier are
 * still arriving, so an entry also remembers the run's newest step and is recomputed once newer steps
 * exist and the cached one was the newest (it may have been incomplete then). Bounded: the oldest
 * entries go first.
 */
import { getAdvice, type AdviceDto } from "./adviceQueries";
import { latestStep } from "./queries";
import { findRunById } from "../../store/runsRepo";
import { getDb } from "./webDb";

const MAX_ENTRIES = 64;
const cache = new Map<string, { lastStep: number | null; advice: Promise<AdviceDto | null> }>();

/** getAdviceCached returns getAdvice(runId, step), computed once per (run, resolved step). */
export async function getAdviceCached(runId: string, step?: number): Promise<AdviceDto | null> {
  const db = await getDb();
  const run = await findRunById(db, runId);
  if (!run) return null;
  const at = step ?? (await latestStep(db, run));
  if (at === null) return getAdvice(runId, step);
  const key = `${runId}\u0000${at}`;
  const hit = cache.get(key);
  // Computed while `at` was the newest step: late reports of it may have arrived since.
  const fresh = hit && (hit.lastStep === run.lastStep || (hit.lastStep !== null && hit.lastStep > at));
  if (hit && fresh) return hit.advice;
  const advice = getAdvice(runId, at);
  cache.delete(key);
  cache.set(key, { lastStep: run.lastStep, advice });
  // A failed computation is not cached.
  advice.catch(() => cache.delete(key));
  while (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return advice;
}
