/** Scheduler: the timer functions a throttle uses (injected so tests can drive time). */
export interface Scheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Throttled: a throttled call plus a way to drop a pending trailing call. */
export interface Throttled {
  (): void;
  cancel(): void;
}

/**
 * createThrottle runs `fn` at most once per `intervalMs`: the first call runs at once, calls inside the
 * interval collapse into one trailing run at its end, so the last change is never lost.
 */
export function createThrottle(fn: () => void, intervalMs: number, scheduler: Scheduler = realScheduler): Throttled {
  let last = Number.NEGATIVE_INFINITY;
  let pending: unknown = null;
  const run = () => {
    pending = null;
    last = scheduler.now();
    fn();
  };
  const throttled = (() => {
    if (pending !== null) return;
    const wait = last + intervalMs - scheduler.now();
    if (wait <= 0) run();
    else pending = scheduler.setTimeout(run, wait);
  }) as Throttled;
  throttled.cancel = () => {
    if (pending !== null) scheduler.clearTimeout(pending);
    pending = null;
  };
  return throttled;
}
