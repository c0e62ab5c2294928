/**
 * Integration-test harness: temporary SQLite databases, a real collector in-process on port 0 or as a
 * separate process that can be SIGKILLed, and a small run layout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { Collector } from "../../collector/Collector";
import type { IngestAuthOptions, ServerTls } from "../../collector/auth";
import { AlertEngine } from "../../collector/AlertEngine";
import type { RuleOverrides } from "../../lib/analysis/alerts/alertRules";
import { WebhookNotifier } from "../../collector/WebhookNotifier";
import { openDatabase, type Db } from "../../lib/store/db";
import type { LayerReport, RankInfo, RunInfo } from "../../lib/analysis/types";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** TEST_POSTGRES_URL: the server the PostgreSQL variant of the suite uses (TEST_DATABASE=postgresql). */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** TEST_DIALECT: which database the integration suite runs against. */
export const TEST_DIALECT = process.env.TEST_DATABASE === "postgresql" ? "postgresql" : "sqlite";

/**
 * tempDatabaseUrl returns a fresh empty database: a file in a new temporary folder, or (with
 * TEST_DATABASE=postgresql) a new PostgreSQL database named moe_test_* (created by the product's own
 * migrator on first open; the suite's global setup drops old ones).
 */
export function tempDatabaseUrl(): string {
  if (TEST_DIALECT === "postgresql") {
    const u = new URL(TEST_POSTGRES_URL);
    u.pathname = `/moe_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    return u.toString();
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moe-telemetry-test-"));
  return `file:${path.join(dir, "test.db")}`;
}

/**
 * startCollector starts a real collector on 127.0.0.1:0 against `url`. Ingest authentication is off
 * unless `auth` says otherwise: the tests of ingest itself are not about tokens (auth.test.ts is).
 */
export async function startCollector(
  url: string,
  opts: {
    flushIntervalMs?: number;
    alertRules?: RuleOverrides;
    webhooks?: string[];
    webhookBaseDelayMs?: number;
    /** Alert group timers; short by default so tests see group messages within a second. */
    grouping?: { groupWaitMs?: number; groupIntervalMs?: number };
    auth?: IngestAuthOptions;
    tls?: ServerTls;
  } = {},
): Promise<{ collector: Collector; db: Db; address: string; alerts: AlertEngine | undefined; stop: () => Promise<void> }> {
  const db = await openDatabase(url);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  let alerts: AlertEngine | undefined;
  if (opts.alertRules) {
    const notifier = opts.webhooks?.length
      ? new WebhookNotifier({ db, urls: opts.webhooks, logger, baseDelayMs: opts.webhookBaseDelayMs ?? 50 })
      : undefined;
    alerts = new AlertEngine({
      db, logger, notifier, fileOverrides: opts.alertRules, tickMs: 100, dashboardUrl: "http://dash.test",
      grouping: { groupWaitMs: 200, groupIntervalMs: 300, ...opts.grouping },
    });
    await alerts.start();
  }
  const collector = new Collector({ db, logger, flushIntervalMs: opts.flushIntervalMs ?? 20, alerts, auth: opts.auth ?? { mode: "off" }, tls: opts.tls });
  const port = await collector.listen("127.0.0.1", 0);
  return {
    collector,
    db,
    alerts,
    address: `127.0.0.1:${port}`,
    stop: async () => {
      await collector.shutdown(1_000);
      await db.close();
    },
  };
}

/** spawnCollector runs `moe-telemetry collector` as a child process and waits until it listens (ingest auth off unless `env` sets INGEST_AUTH). */
export async function spawnCollector(
  url: string,
  port = 0,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/moe-telemetry.mjs"), "collector", "--host", "127.0.0.1", "--port", String(port), "--database", url], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "info", INGEST_AUTH: "off", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start: ${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on [^"]*:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    child.on("exit", (code) => reject(new Error(`collector exited with ${code}: ${out}`)));
  });
  return { child, port: bound, output: () => out };
}

/**
 * A small layout: 8 ranks, TP 1, PP 2, EP 2, 4 experts, top-2, 4 layers with moe_layer_freq [0,1,1,1]
 * (layer 1 dense). Stage 0 holds layers 1-2, stage 1 layers 3-4; DP = EDP = 4.
 */
export function smallRun(runKey: string): RunInfo {
  return {
    runKey,
    name: `test ${runKey}`,
    config: {
      num_layers: 4,
      num_experts: 4,
      moe_router_topk: 2,
      moe_layer_freq: "[0,1,1,1]",
      tensor_model_parallel_size: 1,
      pipeline_model_parallel_size: 2,
      context_parallel_size: 1,
      expert_model_parallel_size: 2,
      seq_length: 64,
      micro_batch_size: 1,
      global_batch_size: 8,
    },
    worldSize: 8,
    gpusPerNode: 8,
    gpuMemoryBytes: 80 * 2 ** 30,
    framework: "test",
    frameworkVersion: "0",
    simulated: false,
    commandLine: [],
  };
}

/** flatDpRank: rank `rank` of a TP 1, PP 1 layout with EP 8 (8 GPUs per node): every rank its own DP rank. */
export function flatDpRank(rank: number): RankInfo {
  return {
    rank,
    host: `node${Math.floor(rank / 8)}`,
    device: `cuda:${rank % 8}`,
    coords: { tp: 0, cp: 0, dp: rank, pp: 0, ep: rank % 8, etp: 0, edp: Math.floor(rank / 8) },
  };
}

/** smallRanks: Megatron order for the small layout (tp fastest, then dp, then pp; ep = dp % 2). */
export function smallRanks(): RankInfo[] {
  const ranks: RankInfo[] = [];
  for (let rank = 0; rank < 8; rank++) {
    const pp = Math.floor(rank / 4);
    const dp = rank % 4;
    ranks.push({ rank, host: "node0", device: `cuda:${rank}`, coords: { tp: 0, cp: 0, dp, pp, ep: dp % 2, etp: 0, edp: Math.floor(dp / 2) } });
  }
  return ranks;
}

/** layersOfStage: MoE layers of the small layout's pipeline stage. */
export function layersOfStage(pp: number): number[] {
  return pp === 0 ? [2] : [3, 4];
}

/** report builds a deterministic valid layer report of the small layout (16 tokens, top-2 over 4 experts). */
export function report(rank: number, step: number, layer: number): LayerReport {
  const tokens = 16;
  // Counts sum to tokens * k = 32 and depend on (rank, step, layer) so sums are checkable.
  const a = (rank + step + layer) % 8;
  const counts = [8 + a, 8 - a, 8 + (a % 3), 8 - (a % 3)];
  return { step, layer, microBatches: 2, tokens, tokensPerExpert: counts, losses: { load_balancing_loss: 1 + a / 100, z_loss: 10 + a } };
}

/** waitFor polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
