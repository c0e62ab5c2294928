/**
 * Applies the committed Prisma migrations (prisma/migrations/<name>/migration.sql) at start-up,
 * without Prisma's native schema engine, so the product starts on air-gapped machines.
 *
 * It keeps Prisma's own bookkeeping table `_prisma_migrations` with the same columns and checksums
 * (sha256 of the script), so the stock `prisma migrate status/deploy` agrees with what ran here.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import type { DatabaseTarget } from "./databaseUrl";

/** Migration: one committed migration script. */
export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/**
 * migrationsDir finds prisma/migrations: MOE_TELEMETRY_ROOT if set, else the nearest folder from the
 * working directory up. (Not import.meta: inside Next's server bundle that points into .next/.)
 *
 * The turbopackIgnore comments: Next's build traces every fs and path call to decide what ships with
 * the server, and a path from the working directory upwards "could be anything", so it traced the whole
 * project and printed ~200 lines of warnings on a newcomer's first start. These paths are read at run
 * time from the checkout (prisma/ is never bundled), so the calls are excluded from tracing.
 */
export function migrationsDir(
  dialect: "sqlite" | "postgresql" = "sqlite",
  start: string = process.env.MOE_TELEMETRY_ROOT ?? process.cwd(),
): string {
  const sub = dialect === "sqlite" ? ["prisma", "migrations"] : ["prisma", "postgres", "migrations"];
  let dir = path.resolve(/*turbopackIgnore: true*/ start);
  for (;;) {
    const candidate = path.join(/*turbopackIgnore: true*/ dir, ...sub);
    if (fs.existsSync(/*turbopackIgnore: true*/ candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`${sub.join("/")} not found from ${start}: run from the project folder or set MOE_TELEMETRY_ROOT`);
    }
    dir = parent;
  }
}

/** loadMigrations reads the migration folders in name order (Prisma's timestamp prefixes sort by time). */
export function loadMigrations(dir: string = migrationsDir()): Migration[] {
  if (!fs.existsSync(/*turbopackIgnore: true*/ dir)) throw new Error(`migrations folder ${dir} is missing: the checkout is incomplete`);
  return fs
    .readdirSync(/*turbopackIgnore: true*/ dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const file = path.join(/*turbopackIgnore: true*/ dir, name, "migration.sql");
      const sql = fs.readFileSync(/*turbopackIgnore: true*/ file, "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

const BOOKKEEPING_SQLITE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" TEXT PRIMARY KEY NOT NULL,
  "checksum" TEXT NOT NULL,
  "finished_at" DATETIME,
  "migration_name" TEXT NOT NULL,
  "logs" TEXT,
  "rolled_back_at" DATETIME,
  "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
  "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

/** MigrationResult: what migrate did. */
export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

/** migrateSqlite applies pending migrations to a SQLite file, creating the file and its folder if needed. */
export function migrateSqlite(file: string, migrations: Migration[] = loadMigrations()): MigrationResult {
  if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 10000");
    // IMMEDIATE takes the write lock first, so two processes starting together apply each migration once.
    const run = db.transaction((): MigrationResult => {
      db.exec(BOOKKEEPING_SQLITE);
      const done = db
        .prepare(`SELECT migration_name AS name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`)
        .all() as Array<{ name: string; checksum: string }>;
      const byName = new Map(done.map((r) => [r.name, r.checksum]));
      const applied: string[] = [];
      for (const m of migrations) {
        const seen = byName.get(m.name);
        if (seen !== undefined) {
          if (seen !== m.checksum) {
            throw new Error(
              `migration ${m.name} was modified after it was applied to ${file} (checksum differs); restore it or use a new database`,
            );
          }
          continue;
        }
        db.exec(m.sql);
        db.prepare(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES (?, ?, ?, ?, ?, 1)`,
        ).run(randomUUID(), m.checksum, Date.now(), m.name, Date.now());
        applied.push(m.name);
      }
      return { applied, alreadyApplied: migrations.length - applied.length };
    });
    return run.immediate();
  } finally {
    db.close();
  }
}

const BOOKKEEPING_POSTGRES = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

// Any constant works: it only has to be the same in every collector that migrates this database.
const MIGRATION_LOCK_KEY = 0x6d6f6554; // "moeT"

/** ensurePostgresDatabase creates the database named in `url` if it does not exist yet. */
export async function ensurePostgresDatabase(url: string): Promise<void> {
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== "3D000") throw err; // 3D000: database does not exist
  } finally {
    await probe.end().catch(() => undefined);
  }
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (err) {
    if ((err as { code?: string }).code !== "42P04") throw err; // created meanwhile by another collector
  } finally {
    await admin.end();
  }
}

/** migratePostgres applies pending migrations under an advisory lock, so collectors starting together agree. */
export async function migratePostgres(url: string, migrations: Migration[] = loadMigrations(migrationsDir("postgresql"))): Promise<MigrationResult> {
  await ensurePostgresDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(BOOKKEEPING_POSTGRES);
    const done = await client.query<{ name: string; checksum: string }>(
      `SELECT migration_name AS name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const byName = new Map(done.rows.map((r) => [r.name, r.checksum]));
    const applied: string[] = [];
    for (const m of migrations) {
      const seen = byName.get(m.name);
      if (seen !== undefined) {
        if (seen !== m.checksum) throw new Error(`migration ${m.name} was modified after it was applied (checksum differs)`);
        continue;
      }
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${m.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      applied.push(m.name);
    }
    return { applied, alreadyApplied: migrations.length - applied.length };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}

/** migrateDatabase applies pending migrations to the target database. */
export async function migrateDatabase(target: DatabaseTarget): Promise<MigrationResult> {
  if (target.dialect === "sqlite") return migrateSqlite(target.file);
  return migratePostgres(target.url);
}
