/**
 * `moe-telemetry serve` (what `npm start` runs): the collector in this process and the dashboard as a child
 * process on the same database, stopped together. The child is lib/web/http/dashboardServer.ts (the built Next.js app
 * behind a small server of ours that answers the experts x steps heatmap itself), run through tsx's ESM
 * loader as this CLI is; a separate process, so ingest and dashboard requests do not share one event loop.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Env } from "../lib/runtime/env";
import { createLogger } from "../lib/runtime/logger";
import { onShutdownSignal, startCollector, type CollectorSecurity } from "./runCollector";

/** runServe is the `serve` command. */
export async function runServe(
  o: { port: number; collectorPort: number; collectorHost: string; database: string; env: Env } & CollectorSecurity,
): Promise<void> {
  const log = createLogger(o.env.LOG_LEVEL);
  const root = process.cwd();
  if (!fs.existsSync(path.join(root, ".next", "BUILD_ID"))) {
    throw new Error(`the dashboard is not built in ${root}: run \`npm run build\` first`);
  }
  const { collector, db } = await startCollector({
    host: o.collectorHost,
    port: o.collectorPort,
    database: o.database,
    env: o.env,
    log,
    ingestAuth: o.ingestAuth,
    tlsCert: o.tlsCert,
    tlsKey: o.tlsKey,
    tlsClientCa: o.tlsClientCa,
  });
  const entry = fileURLToPath(new URL("./dashboardEntry.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx/esm"), entry, "--port", String(o.port)], {
    cwd: root,
    env: {
      ...process.env,
      // What `next start` sets when it is unset (React and Next read it when they load).
      NODE_ENV: process.env.NODE_ENV ?? "production",
      // The absolute path, so both processes open the same file whatever their working directory.
      DATABASE_URL: db.target.url,
      // The dashboard shows whether ingest is authenticated; it reads the same switch.
      INGEST_AUTH: o.ingestAuth ?? o.env.INGEST_AUTH,
      MOE_TELEMETRY_ROOT: root,
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  child.stdout?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  let stopping = false;
  const childExited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    stopping = true;
    child.kill("SIGTERM");
    await collector.shutdown(o.env.SHUTDOWN_GRACE_MS);
    // `serve` is one service to whoever stops it: it exits after the dashboard, which is still closing its
    // requests (live streams get 3 s) and its database connection. And this process closes the database
    // last: the last connection to close folds SQLite's WAL back into the file, and two closing at once
    // can each see the other and both leave it (a 5.6 MB WAL beside an 18 MB file, now and then).
    if (!(await settlesWithin(childExited, DASHBOARD_EXIT_MS))) {
      log.warn({ pid: child.pid, waitedMs: DASHBOARD_EXIT_MS }, "the dashboard process did not exit after SIGTERM; killing it");
      child.kill("SIGKILL");
      await childExited;
    }
    await db.close();
  };
  child.on("exit", (code) => {
    if (stopping) return;
    log.error({ code }, "the dashboard process exited; stopping the collector");
    void stop().then(() => process.exit(code ?? 1));
  });
  onShutdownSignal(log, stop);
  await waitForHttp(`http://127.0.0.1:${o.port}/api/health`, 60_000);
  log.info(`dashboard listening on http://localhost:${o.port}`);
}

/** How long `serve` waits for its dashboard to exit after SIGTERM: its 3 s grace for open requests, then Next's and the database's close. */
const DASHBOARD_EXIT_MS = 10_000;

/** settlesWithin: whether `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`the dashboard did not answer ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
