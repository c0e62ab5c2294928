/**
 * The one retry policy of the product: exponential back-off with jitter, never shorter than a server's
 * hint. The TypeScript client (reconnects, overloaded collectors) and the webhook notifier use it, so a
 * thousand ranks refused at once, or many failing webhook targets, do not all come back in the same instant.
 */

/**
 * backoffDelayMs is the wait before retry number `attempt` (0 for the first retry): `first` doubled per
 * attempt up to `max`, at least `hintMs`, then spread by a random factor in [1, 1.5).
 */
export function backoffDelayMs(attempt: number, [first, max]: readonly [number, number], hintMs = 0, random: () => number = Math.random): number {
  const backoff = Math.min(max, first * 2 ** Math.min(Math.max(0, attempt), 30));
  const base = Math.max(Number.isFinite(hintMs) ? hintMs : 0, backoff);
  return Math.round(base * (1 + random() / 2));
}
