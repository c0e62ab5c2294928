/**
 * Opens the database through Prisma with a driver adapter (no native engine needed), after applying
 * pending migrations. The collector, the web app and the CLI all open it through here.
 */
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
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
    return { prisma, target, sql: new SqlDialect("postgresql"), close: () => prisma.$disconnect() };
  }
  const adapter = new PrismaBetterSqlite3({ url: target.file, timeout: 10_000 });
  const prisma = new PrismaClient({ adapter });
  // WAL is set on the file by the migrator; NORMAL sync is safe in WAL (a power cut may lose the last
  // commits but never corrupts) and a commit then costs no fsync.
  await prisma.$queryRawUnsafe("PRAGMA synchronous = NORMAL");
  return {
    prisma,
    target,
    sql: new SqlDialect(target.dialect),
    close: () => prisma.$disconnect(),
  };
}
