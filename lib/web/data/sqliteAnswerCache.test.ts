import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AnswerCache, changeStamp } from "./sqliteAnswerCache";

let dir = "";
let conn: Database.Database;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "answer-cache-"));
  conn = new Database(path.join(dir, "t.db"));
  conn.pragma("journal_mode = WAL");
  conn.exec(`CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1)`);
});
afterEach(() => {
  conn.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The answer: the table's values, read afresh (a new array each time). */
const load = async () => (conn.prepare(`SELECT v FROM t ORDER BY v`).all() as Array<{ v: number }>).map((r) => r.v);

describe("AnswerCache", () => {
  it("answers from the cache until this connection writes", async () => {
    const cache = new AnswerCache<number[]>(8, 1000);
    const first = await cache.read(conn, "k", (v) => v.length, load);
    expect(await cache.read(conn, "k", (v) => v.length, load)).toBe(first);
    conn.exec(`INSERT INTO t VALUES (2)`);
    expect(await cache.read(conn, "k", (v) => v.length, load)).toEqual([1, 2]);
  });

  it("answers afresh once another connection commits", async () => {
    const cache = new AnswerCache<number[]>(8, 1000);
    const first = await cache.read(conn, "k", (v) => v.length, load);
    const other = new Database(path.join(dir, "t.db"));
    try {
      other.exec(`INSERT INTO t VALUES (3)`);
    } finally {
      other.close();
    }
    const after = await cache.read(conn, "k", (v) => v.length, load);
    expect(after).not.toBe(first);
    expect(after).toEqual([1, 3]);
  });

  it("keeps nothing read inside a transaction, or while the read itself wrote", async () => {
    const cache = new AnswerCache<number[]>(8, 1000);
    conn.exec("BEGIN");
    const inTx = await cache.read(conn, "k", (v) => v.length, load);
    conn.exec("COMMIT");
    expect(await cache.read(conn, "k", (v) => v.length, load)).not.toBe(inTx);
    const writing = async () => {
      conn.exec(`INSERT INTO t VALUES (4)`);
      return load();
    };
    const a = await cache.read(conn, "w", (v) => v.length, writing);
    const stamp = changeStamp(conn);
    expect(cache.get(conn, "w", stamp)).toBeUndefined();
    expect(a).toEqual([1, 4]);
  });

  it("evicts the least recently used beyond its entries and weight, and never keeps an answer over a quarter of the weight", async () => {
    const cache = new AnswerCache<string>(2, 100);
    const stamp = changeStamp(conn);
    cache.set(conn, "a", stamp, "A", 10);
    cache.set(conn, "b", stamp, "B", 10);
    expect(cache.get(conn, "a", stamp)).toBe("A"); // a is now the most recent
    cache.set(conn, "c", stamp, "C", 10);
    expect(cache.get(conn, "b", stamp)).toBeUndefined();
    expect(cache.get(conn, "a", stamp)).toBe("A");
    cache.set(conn, "heavy", stamp, "H", 26);
    expect(cache.get(conn, "heavy", stamp)).toBeUndefined();
    cache.set(conn, "d", stamp, "D", 25);
    cache.set(conn, "e", stamp, "E", 25);
    expect(cache.get(conn, "d", stamp)).toBe("D");
    expect(cache.get(conn, "a", stamp)).toBeUndefined();
  });

  it("loads every time without a connection (PostgreSQL)", async () => {
    const cache = new AnswerCache<number[]>(8, 1000);
    expect(await cache.read(null, "k", (v) => v.length, load)).not.toBe(await cache.read(null, "k", (v) => v.length, load));
  });
});
