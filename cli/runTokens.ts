/**
 * `moe-telemetry tokens create|list|revoke` and `moe-telemetry projects list`: manage the ingest tokens
 * the collector checks, directly in the database (the collector sees a revocation within its cache
 * window, 2 s by default).
 */
import { openDatabase, type Db } from "../lib/store/db";
import {
  createIngestToken,
  listIngestTokens,
  listProjects,
  revokeIngestToken,
  type IngestTokenInfo,
} from "../lib/store/ingestTokens";

async function withDb<T>(url: string, f: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase(url);
  try {
    return await f(db);
  } finally {
    await db.close();
  }
}

function when(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

/** table prints rows as aligned columns. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** tokensCreate is `tokens create`: prints the secret once, with how to use it. */
export async function tokensCreate(o: { project: string; name?: string; database: string; json?: boolean }): Promise<void> {
  const { token, info } = await withDb(o.database, (db) =>
    createIngestToken(db, { projectName: o.project, name: o.name ?? `cli ${new Date().toISOString().slice(0, 10)}`, createdBy: "cli" }),
  );
  if (o.json) {
    console.log(JSON.stringify({ token, ...info }));
    return;
  }
  console.log(token);
  console.error(
    `created ingest token ${info.id} ("${info.name}", project "${info.projectName}"). It is shown only this once; store it now.\n` +
      `use it:  export MOE_TELEMETRY_TOKEN=<the token above>\n` +
      `         the Python and TypeScript clients and \`moe-telemetry simulate\` read MOE_TELEMETRY_TOKEN (or pass token= / --token)`,
  );
}

/** tokensList is `tokens list`: every token, revoked ones too, never the secrets. */
export async function tokensList(o: { database: string; json?: boolean }): Promise<void> {
  const tokens = await withDb(o.database, (db) => listIngestTokens(db));
  if (o.json) {
    console.log(JSON.stringify(tokens));
    return;
  }
  if (tokens.length === 0) {
    console.log("no ingest tokens; create one with `moe-telemetry tokens create --project NAME`");
    return;
  }
  const row = (t: IngestTokenInfo) => [t.id, t.projectName, t.name, `${t.prefix}...`, when(t.createdAtMs), when(t.lastUsedMs), t.revokedAtMs === null ? "-" : when(t.revokedAtMs)];
  console.log(table(["ID", "PROJECT", "NAME", "PREFIX", "CREATED", "LAST USED", "REVOKED"], tokens.map(row)));
}

/** tokensRevoke is `tokens revoke <id>`. */
export async function tokensRevoke(id: string, o: { database: string }): Promise<void> {
  const info = await withDb(o.database, (db) => revokeIngestToken(db, id));
  console.log(`revoked ingest token ${info.id} ("${info.name}", project "${info.projectName}") at ${when(info.revokedAtMs)}; collectors refuse it within a few seconds`);
}

/** projectsList is `projects list`. */
export async function projectsList(o: { database: string; json?: boolean }): Promise<void> {
  const projects = await withDb(o.database, (db) => listProjects(db));
  if (o.json) {
    console.log(JSON.stringify(projects));
    return;
  }
  if (projects.length === 0) {
    console.log("no projects; `moe-telemetry tokens create --project NAME` creates one");
    return;
  }
  console.log(table(["ID", "NAME", "CREATED"], projects.map((p) => [p.id, p.name, when(p.createdAtMs)])));
}
