/**
 * Login throttling: failures are counted per username and per client address in a sliding window;
 * past the limit further attempts are refused (429) until the oldest failure leaves the window. Held in
 * memory: one dashboard process serves all logins, and a restart forgetting the counts is harmless.
 */

/** LIMITS: 5 failures per username or 20 per address in 15 minutes. */
export const THROTTLE_WINDOW_MS = 15 * 60_000;
export const MAX_FAILURES_PER_USER = 5;
export const MAX_FAILURES_PER_IP = 20;
const MAX_KEYS = 10_000;

/** LoginThrottle tracks recent failures by key ("u:name", "ip:addr"). */
export class LoginThrottle {
  private failures = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  private recent(key: string): number[] {
    const t = this.now();
    const list = (this.failures.get(key) ?? []).filter((at) => at > t - THROTTLE_WINDOW_MS);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  /** retryAfterMs: 0 when a login attempt may proceed, else how long to wait. */
  retryAfterMs(username: string, ip: string): number {
    let wait = 0;
    for (const [key, max] of [[`u:${username.toLowerCase()}`, MAX_FAILURES_PER_USER], [`ip:${ip}`, MAX_FAILURES_PER_IP]] as const) {
      const list = this.recent(key);
      if (list.length >= max) wait = Math.max(wait, list[list.length - max] + THROTTLE_WINDOW_MS - this.now());
    }
    return Math.max(0, wait);
  }

  /** fail records a failed attempt. */
  fail(username: string, ip: string): void {
    if (this.failures.size > MAX_KEYS) this.failures.clear(); // a flood of random names must not grow memory without bound
    for (const key of [`u:${username.toLowerCase()}`, `ip:${ip}`]) this.failures.set(key, [...this.recent(key), this.now()]);
  }

  /** succeed forgets the username's failures (not the address's). */
  succeed(username: string): void {
    this.failures.delete(`u:${username.toLowerCase()}`);
  }
}
