/**
 * Login throttling, after OWASP's Authentication cheat sheet: failures slow down the one who makes them
 * rather than locking an account, so a stranger cannot lock a real user out. Failures are counted per
 * (username, client address) and per client address; past a free allowance each further attempt from that
 * key must wait a delay that doubles with every failure (1 s, 2 s, 4 s, ... up to a cap). A failure from
 * another address never delays the real user at theirs; the CLI (`moe-telemetry users reset-password`)
 * stays the way back in. The address is the one the dashboard edge resolved (forwarding.ts), so a client
 * cannot pick a fresh one per attempt. Held in memory: one dashboard process serves all logins, and a
 * restart forgetting the counts is harmless.
 */
import { LRUCache } from "lru-cache";

/** FREE_FAILURES_PER_PAIR: failures per (username, address) before delays begin (LIMITS). */
export const FREE_FAILURES_PER_PAIR = 5;
/** FREE_FAILURES_PER_ADDRESS: failures per address, any usernames, before delays begin (LIMITS). */
export const FREE_FAILURES_PER_ADDRESS = 20;
/** BASE_DELAY_MS: the first delay; each further failure doubles it. */
export const BASE_DELAY_MS = 1_000;
/** MAX_DELAY_MS: the longest delay per (username, address) and per address. */
export const MAX_DELAY_MS = 15 * 60_000;
/** FORGET_AFTER_MS: a key with no failure for this long starts again from nothing. */
export const FORGET_AFTER_MS = 15 * 60_000;
/** Keys remembered at once; the least recently failed are forgotten first, so memory stays bounded. */
const MAX_KEYS = 50_000;

interface Failures {
  count: number;
  lastMs: number;
}

/** delayAfter: how long after the last failure the next attempt may come, given `count` failures and `free` allowed. */
export function delayAfter(count: number, free: number): number {
  if (count < free) return 0;
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(30, count - free));
}

/** LoginThrottle tracks recent failures by (username, address) and by address. */
export class LoginThrottle {
  // Least recently failed keys leave first when the bound is reached; a key is forgotten FORGET_AFTER_MS after its last failure.
  private readonly failures: LRUCache<string, Failures>;

  constructor(private readonly now: () => number = Date.now) {
    this.failures = new LRUCache({ max: MAX_KEYS, ttl: FORGET_AFTER_MS, updateAgeOnGet: false, perf: { now: () => this.now() } });
  }

  private keys(username: string, ip: string): Array<[string, number]> {
    return [
      [`p:${ip}\n${username.toLowerCase()}`, FREE_FAILURES_PER_PAIR],
      [`ip:${ip}`, FREE_FAILURES_PER_ADDRESS],
    ];
  }

  private current(key: string): Failures | null {
    return this.failures.get(key) ?? null;
  }

  /** retryAfterMs: 0 when a login attempt from `ip` for `username` may proceed, else how long to wait. */
  retryAfterMs(username: string, ip: string): number {
    let wait = 0;
    for (const [key, free] of this.keys(username, ip)) {
      const f = this.current(key);
      if (f) wait = Math.max(wait, f.lastMs + delayAfter(f.count, free) - this.now());
    }
    return Math.max(0, wait);
  }

  /** fail records a failed attempt against the pair and the address. */
  fail(username: string, ip: string): void {
    for (const [key] of this.keys(username, ip)) {
      const count = (this.current(key)?.count ?? 0) + 1;
      this.failures.set(key, { count, lastMs: this.now() }); // a set restarts the key's TTL and makes it most recent
    }
  }

  /** succeed forgets the pair's failures (not the address's: a success does not excuse guessing other names). */
  succeed(username: string, ip: string): void {
    this.failures.delete(this.keys(username, ip)[0][0]);
  }
}
