/**
 * Integration suite set-up: with TEST_DATABASE=postgresql, drop the moe_test_* databases earlier runs
 * left behind (each test creates its own), before and after the run. A name carries the process id of
 * the test worker that made it (moe_test_<pid>_<random>): a database of a process that is still alive
 * belongs to another suite running at the same time on this machine, and is left alone.
 */
import pg from "pg";

async function dropTestDatabases(): Promise<void> {
  if (process.env.TEST_DATABASE !== "postgresql") return;
  const url = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'moe_test_%'`);
    for (const r of rows.rows) {
      if (ownerAlive(r.datname)) continue;
      await client.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
}

/** ownerAlive tells whether the process that created a moe_test_<pid>_* database still runs. */
function ownerAlive(datname: string): boolean {
  const pid = Number(/^moe_test_(\d+)_/.exec(datname)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, owned by another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function setup(): Promise<void> {
  await dropTestDatabases();
}

export async function teardown(): Promise<void> {
  await dropTestDatabases();
}
