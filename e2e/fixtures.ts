import { test as base, expect, type APIRequestContext } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { startCli, type Spawned } from "./processes";

/** SimulateOptions: the simulator flags a test sets; the rest are the simulator's defaults. */
export interface SimulateOptions {
  runKey: string;
  ranks?: number;
  steps?: number;
  stepIntervalMs?: number;
  scenario?: "early-imbalance" | "balanced" | "oom";
  extra?: string[];
}

/** uniqueRunKey makes a run key no other test (or earlier CI run on the same database) uses. */
export function uniqueRunKey(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/**
 * test: Playwright's test with baseURL pointing at the server global-setup started, and a `simulate`
 * fixture that runs `moe-telemetry simulate` against its collector and stops it when the test ends.
 */
export const test = base.extend<{ simulate: (o: SimulateOptions) => Spawned }>({
  // Playwright reads fixture dependencies from the destructuring pattern, so it must be there even when empty.
  // eslint-disable-next-line no-empty-pattern
  baseURL: async ({}, use) => {
    const url = process.env.E2E_BASE_URL;
    if (!url) throw new Error("E2E_BASE_URL is not set: e2e/global-setup.ts did not run");
    await use(url);
  },
  // eslint-disable-next-line no-empty-pattern
  simulate: async ({}, use) => {
    const started: Spawned[] = [];
    await use((o) => {
      const collector = process.env.E2E_COLLECTOR;
      if (!collector) throw new Error("E2E_COLLECTOR is not set: e2e/global-setup.ts did not run");
      const p = startCli([
        "simulate",
        "--collector",
        collector,
        "--ranks",
        String(o.ranks ?? 16),
        "--steps",
        String(o.steps ?? 80),
        "--step-interval-ms",
        String(o.stepIntervalMs ?? 100),
        "--run-key",
        o.runKey,
        ...(o.scenario ? ["--scenario", o.scenario] : []),
        ...(o.extra ?? []),
      ]);
      started.push(p);
      return p;
    });
    await Promise.all(started.map((p) => p.stop()));
  },
});

/** runIdOf waits until a run key appears in /api/runs and returns its id. */
export async function runIdOf(request: APIRequestContext, runKey: string): Promise<string> {
  let id = "";
  await expect
    .poll(async () => {
      const runs = (await (await request.get("/api/runs")).json()) as Array<{ id: string; runKey: string }>;
      id = runs.find((r) => r.runKey === runKey)?.id ?? "";
      return id;
    })
    .not.toBe("");
  return id;
}

export { expect };
