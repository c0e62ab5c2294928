/**
 * Answers read from one SQLite connection, kept while the database has not changed since they were read.
 *
 * The change stamp is PRAGMA data_version (moves when another connection, e.g. the collector, commits) and
 * total_changes() (moves when this connection writes), so a repeated view of an unchanged run (a page
 * refresh, a second viewer, a finished run) costs two counter reads, and any write makes every entry stale.
 * Nothing is cached while a transaction is open on the connection (its writes may still roll back), and an
 * answer is kept only if the stamp did not move while it was read (a read that wrote, e.g. missing rollups,
 * is simply read again next time).
 *
 * Callers get the cached object itself: they must not modify it.
 */
import type BetterSqlite3 from "better-sqlite3";

type Conn = BetterSqlite3.Database;

const totalChanges = new WeakMap<Conn, BetterSqlite3.Statement>();

/** changeStamp identifies the database's state as this connection sees it; equal stamps mean nothing was written. */
export function changeStamp(conn: Conn): string {
  let stmt = totalChanges.get(conn);
  if (!stmt) totalChanges.set(conn, (stmt = conn.prepare(`SELECT total_changes()`).raw(true)));
  const dataVersion = Number(conn.pragma("data_version", { simple: true }));
  return `${dataVersion}:${(stmt.get() as [number])[0]}`;
}

interface Entry<T> {
  stamp: string;
  value: T;
  weight: number;
}

interface PerConnection<T> {
  /** In use order, least recently used first. */
  entries: Map<string, Entry<T>>;
  weight: number;
}

/**
 * AnswerCache: an LRU of one kind of answer per connection, bounded by entries and by total weight (the
 * numbers an answer holds, roughly its memory); an answer heavier than a quarter of the budget is not kept.
 */
export class AnswerCache<T> {
  private readonly perConnection = new WeakMap<Conn, PerConnection<T>>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number,
  ) {}

  private of(conn: Conn): PerConnection<T> {
    let c = this.perConnection.get(conn);
    if (!c) this.perConnection.set(conn, (c = { entries: new Map(), weight: 0 }));
    return c;
  }

  private forget(c: PerConnection<T>, key: string): void {
    const e = c.entries.get(key);
    if (!e) return;
    c.entries.delete(key);
    c.weight -= e.weight;
  }

  /** get returns the answer kept for `key` if it was read at `stamp` (and marks it recently used), else undefined. */
  get(conn: Conn, key: string, stamp: string): T | undefined {
    const c = this.of(conn);
    const hit = c.entries.get(key);
    this.forget(c, key);
    if (!hit || hit.stamp !== stamp) return undefined;
    c.entries.set(key, hit);
    c.weight += hit.weight;
    return hit.value;
  }

  /** set keeps `value`, read at `stamp`, evicting the least recently used answers beyond the bounds. */
  set(conn: Conn, key: string, stamp: string, value: T, weight: number): void {
    if (weight > this.maxWeight / 4) return;
    const c = this.of(conn);
    this.forget(c, key);
    c.entries.set(key, { stamp, value, weight });
    c.weight += weight;
    while (c.entries.size > this.maxEntries || c.weight > this.maxWeight) this.forget(c, c.entries.keys().next().value as string);
  }

  /**
   * read answers `key` from the cache or by `load`, keeping what `load` returns when the database did not
   * change while it ran (undefined, "no answer", is never kept). Without a cacheable connection (none, or a
   * transaction open) it just loads.
   */
  async read(conn: Conn | null, key: string, weigh: (value: T) => number, load: () => Promise<T>): Promise<T> {
    if (!conn || conn.inTransaction) return load();
    const stamp = changeStamp(conn);
    const hit = this.get(conn, key, stamp);
    if (hit !== undefined) return hit;
    const value = await load();
    if (value !== undefined && !conn.inTransaction && changeStamp(conn) === stamp) this.set(conn, key, stamp, value, weigh(value));
    return value;
  }
}
