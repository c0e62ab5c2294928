/**
 * Opens the database through Prisma with a driver adapter (no native engine needed), after applying
 * pending migrations. The collector, the web app and the CLI all open it through here.
 */
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import type BetterSqlite3 from "better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../../generated/prisma/client";
import { PrismaClient as PrismaClientPg } from "../../generated/prisma-pg/client";
import { parseDatabaseUrl, redactUrl, type DatabaseTarget } from "./databaseUrl";
import { migrateDatabase } from "./migrate";
import { SqlDialect } from "./sqlDialect";

/** Db: an open database with its dialect, for raw batched statements on the hot path. */
export interface Db {
  prisma: PrismaClient;
  target: DatabaseTarget;
  sql: SqlDialect;
  /**
   * SQLite only: the very connection Prisma's adapter uses, for the ingest hot path (better-sqlite3
   * prepared statements are 6-9x faster than Prisma raw). One connection, not a second one: a second
   * connection's commit between an interactive Prisma transaction's read and write would fail that
   * transaction with SQLITE_BUSY_SNAPSHOT. Callers must not start a transaction while
   * `inTransaction` is true (a Prisma interactive transaction is open across awaits) and must run
   * theirs synchronously. Null on PostgreSQL.
   */
  sqlite(): BetterSqlite3.Database | null;
  close(): Promise<void>;
}

/** openDatabase migrates (unless told not to) and connects to DATABASE_URL or the embedded default. */
export async function openDatabase(url?: string, opts: { migrate?: boolean } = {}): Promise<Db> {
  const target = parseDatabaseUrl(url);
  if (opts.migrate !== false) {
    try {
      await migrateDatabase(target);
    } catch (err) {
      throw new Error(`cannot prepare the database ${redactUrl(target.url)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (target.dialect === "postgresql") {
    // Both clients are generated from one data model (scripts/genPostgresSchema.mjs), so their model
    // APIs are identical; the code is typed against the SQLite client's types.
    const prisma = new PrismaClientPg({ adapter: new PrismaPg({ connectionString: target.url, max: 8 }) }) as unknown as PrismaClient;
    return { prisma, target, sql: new SqlDialect("postgresql"), sqlite: () => null, close: () => prisma.$disconnect() };
  }
  const factory = new PrismaBetterSqlite3({ url: target.file, timeout: 10_000 });
  let connection: BetterSqlite3.Database | null = null;
  // Prisma creates the connection inside the adapter; this wrapper keeps a reference to it (the
  // adapter stores it as `client`) so the hot path shares it. Re-read on every (re)connect.
  const adapter = {
    provider: "sqlite" as const,
    adapterName: factory.adapterName,
    connect: async () => {
      const a = await factory.connect();
      const client = (a as unknown as { client?: BetterSqlite3.Database }).client;
      if (!client || typeof client.prepare !== "function") {
        throw new Error("@prisma/adapter-better-sqlite3 no longer exposes its connection as `client`: the ingest hot path cannot share it");
      }
      connection = client;
      return a;
    },
    connectToShadowDb: () => factory.connectToShadowDb(),
  };
  const prisma = new PrismaClient({ adapter });
  // WAL is set on the file by the migrator. FULL, not NORMAL: the collector acks a batch once its commit
  // returns, and an ack promises the data survives a power cut too (NORMAL in WAL may lose the last
  // commits then). It costs one fsync per flush, and a flush carries thousands of reports.
  await prisma.$queryRawUnsafe("PRAGMA synchronous = FULL");
  return {
    prisma,
    target,
    sql: new SqlDialect(target.dialect),
    sqlite: () => connection,
    close: () => prisma.$disconnect(),
  };
}
