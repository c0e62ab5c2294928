/**
 * `moe-telemetry collector`: the gRPC collector as its own process, with ordered shutdown on
 * SIGTERM/SIGINT: stop accepting, flush and ack, close the database.
 */
import { Collector } from "../collector/Collector";
import { AlertEngine } from "../lib/server/AlertEngine";
import { loadRuleOverridesFile } from "../lib/server/alertRulesStore";
import { WebhookNotifier } from "../lib/server/WebhookNotifier";
import { openDatabase, type Db } from "../lib/server/db";
import { redactUrl } from "../lib/server/databaseUrl";
import type { Env } from "../lib/server/env";
import { createLogger } from "../lib/server/logger";
import type { Logger } from "pino";

/** startCollector opens the database and starts a collector; returns it with its port. */
export async function startCollector(o: { host: string; port: number; database: string; env: Env; log: Logger }): Promise<{ collector: Collector; port: number; db: Db }> {
  const fileOverrides = loadRuleOverridesFile(o.env.ALERT_RULES_FILE);
  const db = await openDatabase(o.database);
  const notifier = o.env.ALERT_WEBHOOK_URLS.length > 0 ? new WebhookNotifier({ db, urls: o.env.ALERT_WEBHOOK_URLS, logger: o.log }) : undefined;
  const alerts = new AlertEngine({ db, logger: o.log, notifier, fileOverrides, dashboardUrl: o.env.DASHBOARD_URL ?? `http://localhost:${o.env.PORT}` });
  await alerts.start();
  const collector = new Collector({
    db,
    logger: o.log,
    alerts,
    flushIntervalMs: o.env.FLUSH_INTERVAL_MS,
    flushMaxRecords: o.env.FLUSH_MAX_RECORDS,
  });
  const port = await collector.listen(o.host, o.port);
  o.log.info({ database: redactUrl(db.target.url) }, `collector listening on ${o.host}:${port}`);
  return { collector, port, db };
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
export async function runCollector(o: { host: string; port: number; database: string; env: Env }): Promise<void> {
  const log = createLogger(o.env.LOG_LEVEL);
  const { collector, db } = await startCollector({ ...o, log });
  onShutdownSignal(log, async () => {
    await collector.shutdown(o.env.SHUTDOWN_GRACE_MS);
    await db.close();
  });
}
