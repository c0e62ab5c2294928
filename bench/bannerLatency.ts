/**
 * Report-to-banner latency (issue 5): how long after a rank's report crosses an alert threshold the open
 * run page shows the alert in its banner, in headless Chromium.
 *
 *   npm run bench:banner -- [--iterations 20] [--ranks 4]      (smoke: --iterations 2)
 *
 * Starts `moe-telemetry serve` (needs `npm run build` first) on free ports with a temporary SQLite file,
 * sets global alert rules (ep-imbalance-high: threshold 1.5, for 0, keep-firing 0; every other rule off),
 * registers a small run through the TypeScript client and opens its page. Then, alternately, it writes one
 * step whose EP rank 0 gets 3x its share (fires) and one balanced step (resolves), each as one Write per
 * rank through lib/client/TelemetryClient.ts, and times from the first write to the banner changing. The
 * page records the moment with a MutationObserver (same machine clock as this process).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "@playwright/test";
import { ALERT_RULE_IDS } from "../lib/analysis/alerts/alertRules";
import type { LayerReport } from "../lib/analysis/types";
import { TelemetryClient } from "../lib/client/TelemetryClient";
import { createSimulation } from "../lib/sim/createSimulation";
import { freePort, startCli, waitForOutput } from "../e2e/processes";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const ITERATIONS = arg("iterations", 20);
const RANKS = arg("ranks", 4);

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${percentile(s, 0.5).toFixed(0)} ms, p99 ${percentile(s, 0.99).toFixed(0)} ms, min ${s[0]?.toFixed(0)} ms, max ${s.at(-1)?.toFixed(0)} ms (n=${s.length})`;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "moe-banner-bench-"));
  const port = await freePort();
  const collectorPort = await freePort();
  const server = startCli(["serve", "--port", String(port), "--collector-port", String(collectorPort), "--collector-host", "127.0.0.1", "--database", `file:${path.join(tmp, "bench.db")}`], { INGEST_AUTH: "off", DASHBOARD_AUTH: "off" });
  const base = `http://127.0.0.1:${port}`;
  const client = new TelemetryClient(`127.0.0.1:${collectorPort}`);
  const browser = await chromium.launch({
    executablePath: process.env.PLAYWRIGHT_CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  try {
    await waitForOutput(server, "dashboard listening on", 120_000);

    // Only the rule under test, firing and resolving at once.
    const rules = Object.fromEntries(ALERT_RULE_IDS.map((id) => [id, id === "ep-imbalance-high" ? { threshold: 1.5, forMs: 0, forSteps: 1, keepFiringMs: 0, keepFiringSteps: 0 } : { enabled: false }]));
    const put = await fetch(`${base}/api/alert-rules`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(rules) });
    if (!put.ok) throw new Error(`PUT /api/alert-rules: ${put.status} ${await put.text()}`);

    const sim = createSimulation({ ranks: RANKS, steps: 10_000, scenario: "balanced", numExperts: 8, topk: 2, numLayers: 2, ep: 4, pp: 1 });
    const runKey = `bench-banner-${Date.now()}`;
    const { runId } = await client.registerRun({
      runKey,
      name: "banner latency bench",
      config: sim.config,
      worldSize: sim.worldSize,
      gpusPerNode: sim.gpusPerNode,
      gpuMemoryBytes: sim.gpuMemoryBytes,
      framework: "bench",
      frameworkVersion: "bannerLatency",
      simulated: true,
      commandLine: [],
    });
    const seq = new Map<number, number>();
    const E = sim.config.num_experts;
    const expertsPerEp = E / 4;
    /** One step for every rank: balanced counts, or EP rank 0's experts at 3x on layer 1. */
    const writeStep = async (step: number, imbalanced: boolean) => {
      const data = sim.step(step);
      await Promise.all(
        sim.ranks.map((ri) => {
          const layers: LayerReport[] = (data.layers.get(ri.rank) ?? []).map((l) => {
            const assignments = l.tokens * sim.config.moe_router_topk;
            const weights = Array.from({ length: E }, (_, e) => (imbalanced && l.layer === 1 && e < expertsPerEp ? 3 : 1));
            const sum = weights.reduce((a, b) => a + b, 0);
            const counts = weights.map((w) => Math.floor((assignments * w) / sum));
            counts[E - 1] += assignments - counts.reduce((a, b) => a + b, 0);
            return { ...l, tokensPerExpert: counts, receivedPerLocalExpert: undefined, tokensPerExpertBeforeDrop: undefined };
          });
          const s = (seq.get(ri.rank) ?? 0) + 1;
          seq.set(ri.rank, s);
          const sample = data.samples.get(ri.rank);
          return client.write(runKey, ri, s, layers, sample ? [sample] : []);
        }),
      );
    };

    let step = 1;
    await writeStep(step++, false);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${base}/runs/${encodeURIComponent(runId)}`, { waitUntil: "load" });
    await page.getByTestId("run-live").waitFor();
    await page.waitForFunction(`document.querySelector('[data-testid="live-indicator"]')?.getAttribute("data-state") === "open"`);
    // Record when the banner's count changes, in the page, so polling from here adds nothing.
    // A string, not a function: tsx's transform would add helpers the page does not have.
    await page.evaluate(`(() => {
      window.__bannerChanges = [];
      let last = "";
      const check = () => {
        const c = document.querySelector('[data-testid="alert-banner"]')?.getAttribute("data-count") ?? "";
        if (c !== last) {
          last = c;
          window.__bannerChanges.push({ at: Date.now(), count: Number(c || "0") });
        }
      };
      new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-count"] });
      check();
    })()`);
    const waitForCount = async (want: (n: number) => boolean, since: number, timeoutMs = 15_000): Promise<number> => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const changes = (await page.evaluate("window.__bannerChanges")) as Array<{ at: number; count: number }>;
        const hit = changes.find((c) => c.at >= since && want(c.count));
        if (hit) return hit.at - since;
        if (Date.now() > until) throw new Error(`banner did not change within ${timeoutMs} ms (changes: ${JSON.stringify(changes.slice(-5))})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const fire: number[] = [];
    const resolve: number[] = [];
    // One warm-up round (first compiles, first SSE frames), not counted.
    for (let i = -1; i < ITERATIONS; i++) {
      let t0 = Date.now();
      await writeStep(step++, true);
      const f = await waitForCount((n) => n > 0, t0);
      await new Promise((r) => setTimeout(r, 200));
      t0 = Date.now();
      await writeStep(step++, false);
      const r = await waitForCount((n) => n === 0, t0);
      if (i >= 0) {
        fire.push(f);
        resolve.push(r);
      }
      process.stdout.write(`${i < 0 ? "warm-up" : `#${i + 1}`}: fire ${f} ms, resolve ${r} ms\n`);
      await new Promise((r2) => setTimeout(r2, 200));
    }
    const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
    console.log(`\nreport -> banner shows the alert:   ${stats(fire)}`);
    console.log(`report -> banner drops the alert:   ${stats(resolve)}`);
    console.log("\n| transition | p50 | p99 | min | max |\n|---|---|---|---|---|");
    for (const [what, xs] of [["report -> banner shows the alert", fire], ["report -> banner drops the alert", resolve]] as const) {
      const s = [...xs].sort((a, b) => a - b);
      console.log(`| ${what} | ${percentile(s, 0.5).toFixed(0)} ms | ${percentile(s, 0.99).toFixed(0)} ms | ${s[0]} ms | ${s.at(-1)} ms |`);
    }
    console.log(`machine: ${os.cpus().length} cores, load average ${load} (1/5/15 min), ${new Date().toISOString()}`);
  } finally {
    await browser.close();
    client.close();
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
