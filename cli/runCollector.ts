/**
 * `moe-telemetry collector`: the gRPC collector as its own process, with ordered shutdown on
 * SIGTERM/SIGINT: stop accepting, flush and ack, close the database.
 */
import { Collector } from "../collector/Collector";
import { loadServerTls } from "../collector/auth";
import { ensureQuickStartToken } from "../lib/store/ingestTokens";
import { AlertEngine } from "../collector/AlertEngine";
import { loadRuleOverridesFile } from "../lib/store/alertRulesStore";
import { WebhookNotifier } from "../collector/WebhookNotifier";
import { openDatabase, type Db } from "../lib/store/db";
import { redactUrl } from "../lib/store/databaseUrl";
import type { Env } from "../lib/runtime/env";
import { createLogger } from "../lib/runtime/logger";
import type { Logger } from "pino";

/** CollectorSecurity: the `collector` and `serve` flags for ingest tokens and TLS (defaults from the environment). */
export interface CollectorSecurity {
  ingestAuth?: "on" | "off";
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
}

/** startCollector opens the database and starts a collector; returns it with its port. */
export async function startCollector(
  o: { host: string; port: number; database: string; env: Env; log: Logger } & CollectorSecurity,
): Promise<{ collector: Collector; port: number; db: Db }> {
  const fileOverrides = loadRuleOverridesFile(o.env.ALERT_RULES_FILE);
  // TLS files are checked before anything else starts, so a wrong path fails fast and by name.
  const tls = loadServerTls({
    cert: o.tlsCert ?? o.env.COLLECTOR_TLS_CERT,
    key: o.tlsKey ?? o.env.COLLECTOR_TLS_KEY,
    clientCa: o.tlsClientCa ?? o.env.COLLECTOR_TLS_CLIENT_CA,
  });
  const authMode = o.ingestAuth ?? o.env.INGEST_AUTH;
  const db = await openDatabase(o.database);
  if (authMode === "on") await printQuickStartToken(db, o.log);
  else o.log.warn("ingest authentication is OFF (INGEST_AUTH=off): any process that reaches the collector can write runs");
  const notifier = o.env.ALERT_WEBHOOK_URLS.length > 0 ? new WebhookNotifier({ db, urls: o.env.ALERT_WEBHOOK_URLS, logger: o.log }) : undefined;
  const alerts = new AlertEngine({
    db, logger: o.log, notifier, fileOverrides, dashboardUrl: o.env.DASHBOARD_URL ?? `http://localhost:${o.env.PORT}`,
    grouping: { groupWaitMs: o.env.ALERT_GROUP_WAIT_MS, groupIntervalMs: o.env.ALERT_GROUP_INTERVAL_MS },
  });
  await alerts.start();
  const collector = new Collector({
    db,
    logger: o.log,
    alerts,
    flushIntervalMs: o.env.FLUSH_INTERVAL_MS,
    flushMaxRecords: o.env.FLUSH_MAX_RECORDS,
    auth: { mode: authMode },
    tls,
  });
  const port = await collector.listen(o.host, o.port);
  o.log.info(
    { database: redactUrl(db.target.url), ingestAuth: authMode, tls: tls ? (tls.clientCa ? "server+client certificates" : "server certificate") : "off" },
    `collector listening on ${o.host}:${port}`,
  );
  return { collector, port, db };
}

/**
 * printQuickStartToken keeps the first start zero-configuration with authentication on: when the
 * database has no ingest token yet, one is created (project "default") and printed once, here.
 */
async function printQuickStartToken(db: Db, log: Logger): Promise<void> {
  const created = await ensureQuickStartToken(db);
  if (!created) return;
  log.warn({ tokenId: created.info.id, project: created.info.projectName, prefix: created.info.prefix }, "created the quick-start ingest token (printed once on stderr)");
  const line = "=".repeat(78);
  process.stderr.write(
    `\n${line}\n` +
      `  moe-telemetry: no ingest token existed, so one was created for project "default".\n` +
      `  It is shown ONLY NOW; store it:\n\n` +
      `      ${created.token}\n\n` +
      `  Training jobs and the simulator send it from the environment:\n` +
      `      export MOE_TELEMETRY_TOKEN=${created.token}\n` +
      `  More tokens: moe-telemetry tokens create --project NAME; revoke: moe-telemetry tokens revoke ID\n` +
      `${line}\n\n`,
  );
}

/** onShutdownSignal runs `stop` once on SIGTERM or SIGINT, then exits. */
export function onShutdownSignal(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => handler("SIGTERM"));
  process.on("SIGINT", () => handler("SIGINT"));
}

/** runCollector is the `collector` command. */
export async function runCollector(o: { host: string; port: number; database: string; env: Env } & CollectorSecurity): Promise<void> {
  const log = createLogger(o.env.LOG_LEVEL);
  const { collector, db } = await startCollector({ ...o, log });
  onShutdownSignal(log, async () => {
    await collector.shutdown(o.env.SHUTDOWN_GRACE_MS);
    await db.close();
  });
}
