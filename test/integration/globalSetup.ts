/**
 * Integration suite set-up: with TEST_DATABASE=postgresql, drop the moe_test_* databases earlier runs
 * left behind (each test creates its own), before and after the run.
 */
import pg from "pg";

async function dropTestDatabases(): Promise<void> {
  if (process.env.TEST_DATABASE !== "postgresql") return;
  const url = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'moe_test_%'`);
    for (const r of rows.rows) await client.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export async function setup(): Promise<void> {
  await dropTestDatabases();
}

export async function teardown(): Promise<void> {
  await dropTestDatabases();
}
