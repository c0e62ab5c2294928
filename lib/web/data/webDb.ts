/**
 * The web app's database handle: one per server process (kept on globalThis so Next's dev reloads
 * do not open a new connection each time), opened lazily with migrations applied.
 */
import { envSetting } from "../../runtime/env";
import { openDatabase, type Db } from "../../store/db";

const holder = globalThis as unknown as { __moeTelemetryDb?: Promise<Db> };

/** getDb returns the process-wide database handle. */
export function getDb(): Promise<Db> {
  if (!holder.__moeTelemetryDb) {
    holder.__moeTelemetryDb = openDatabase(envSetting("DATABASE_URL")).catch((err: unknown) => {
      holder.__moeTelemetryDb = undefined;
      throw err;
    });
  }
  return holder.__moeTelemetryDb;
}
