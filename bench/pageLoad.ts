/**
 * Run-page load bench: the run page of a large run in headless Chromium, and the experts x steps heatmap
 * API over 1,024 / 20k / all steps.
 *
 *   npm run build && npm run bench:page -- [--file data/bench-large.db] [--steps 100000 --layers 64 --experts 64]
 *                                          [--repeat 3] [--smoke] [--json out.json] [--screenshot page.png]
 *
 * Seeds the run with bench/seedLargeRun.ts when --file does not exist (or always with --smoke: 2k steps x
 * 8 layers x 8 experts in a temporary file), starts `moe-telemetry serve` (DASHBOARD_AUTH=off,
 * INGEST_AUTH=off) on it, and measures with Playwright's Chromium (/usr/bin/chromium, as e2e/ does):
 *
 * - first meaningful paint (FMP): milliseconds from navigation start until the run page's data panels
 *   show data: the imbalance heatmap and the experts x steps heatmap show their cells (the image the server
 *   rendered into the HTML, decoded and displayed, or the canvas once HeatmapCanvas has drawn it and set
 *   data-drawn) and both loss charts (aux and z-loss) hold a layer's line path (`path[data-layer]`).
 *   Recorded in the page (FMP_PROBE, installed before navigation) at the next animation frame after the
 *   last of these appears (i.e. when it is painted). Also reported: when both heatmap canvases have drawn,
 *   which needs the page's scripts loaded and hydrated (tooltips and clicks work from then on).
 * - bytes: sum of CDP Network.loadingFinished encodedDataLength over every request of the load (what went
 *   over the wire, compressed), and the number of requests;
 * - cold (a fresh browser context: empty cache) and warm (a reload in the same context), `--repeat` times
 *   each, medians reported.
 * Numbers vary with machine load (2 shared cores): compare runs made together.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium, type Browser } from "playwright-core";
import { freePort, startCli, waitForOutput } from "../e2e/processes";
import { seedLargeRun } from "./seedLargeRun";

const { values } = parseArgs({
  options: {
    file: { type: "string" },
    steps: { type: "string", default: "100000" },
    layers: { type: "string", default: "64" },
    experts: { type: "string", default: "64" },
    repeat: { type: "string", default: "3" },
    smoke: { type: "boolean", default: false },
    json: { type: "string" },
    screenshot: { type: "string" },
  },
});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

/**
 * The in-page probe. window.__fmp: ms since navigation start once every data panel shows data (each heatmap
 * either as the cell image the server rendered into the HTML, decoded and displayed, or as its drawn
 * canvas; both loss charts with a line path). window.__drawn: once both heatmap canvases have drawn, i.e. the
 * page has hydrated far enough for the heatmaps' tooltips and clicks. Each taken at the next animation frame.
 */
const FMP_PROBE = `(() => {
  const drawn = (id) => document.querySelector('[data-testid="' + id + '-canvas"][data-drawn]');
  const shown = (id) =>
    drawn(id) ||
    [...document.querySelectorAll('[data-testid="' + id + '-preview"] img')].some((i) => i.complete && i.naturalWidth > 0 && i.getClientRects().length > 0);
  const lines = () =>
    document.querySelector('[data-testid="aux-loss-chart"] path[data-layer]') &&
    document.querySelector('[data-testid="z-loss-chart"] path[data-layer]');
  const at = (key) => {
    window[key] = null;
    requestAnimationFrame(() => { window[key] = performance.now(); });
  };
  const check = () => {
    if (window.__fmp === undefined && lines() && shown("imbalance-heatmap") && shown("expert-step-heatmap")) at("__fmp");
    if (window.__drawn === undefined && drawn("imbalance-heatmap") && drawn("expert-step-heatmap")) at("__drawn");
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-drawn", "d"] });
  // An image's decode fires no mutation: its load event (captured, it does not bubble) re-checks.
  document.addEventListener("load", check, true);
})();`;

interface LoadResult {
  fmpMs: number;
  /** Navigation start until both heatmap canvases have drawn (hydrated: tooltips and clicks work). */
  drawnMs: number;
  /** Navigation start to the HTML's last byte: the server's share of the paint. */
  htmlMs: number;
  bytes: number;
  requests: number;
}

async function loadOnce(browser: Browser, url: string, reuse?: { ctx: Awaited<ReturnType<Browser["newContext"]>> }): Promise<LoadResult & { ctx: Awaited<ReturnType<Browser["newContext"]>> }> {
  const ctx = reuse?.ctx ?? (await browser.newContext({ viewport: { width: 1400, height: 1000 } }));
  if (!reuse) await ctx.addInitScript(FMP_PROBE);
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Network.enable");
  let bytes = 0;
  let requests = 0;
  cdp.on("Network.requestWillBeSent", () => requests++);
  cdp.on("Network.loadingFinished", (e: { encodedDataLength: number }) => (bytes += e.encodedDataLength));
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction(() => typeof (window as unknown as { __drawn?: number }).__drawn === "number", null, { timeout: 120_000, polling: 50 });
  const { fmpMs, drawnMs } = await page.evaluate(() => {
    const w = window as unknown as { __fmp: number; __drawn: number };
    return { fmpMs: w.__fmp, drawnMs: w.__drawn };
  });
  const htmlMs = (await page.evaluate(() => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).responseEnd)) as number;
  await page.waitForLoadState("networkidle").catch(() => {});
  await page.close();
  return { fmpMs, drawnMs, htmlMs, bytes, requests, ctx };
}

async function timeApi(url: string, repeat: number): Promise<{ ms: number; bytes: number; columns: number }> {
  const times: number[] = [];
  let bytes = 0;
  let columns = 0;
  for (let i = 0; i < repeat + 1; i++) {
    const t = performance.now();
    const res = await fetch(url);
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
    if (i > 0) times.push(performance.now() - t); // the first request warms the route
    bytes = text.length;
    columns = (JSON.parse(text) as { columns: unknown[] }).columns.length;
  }
  return { ms: median(times), bytes, columns };
}

async function main() {
  const smoke = values.smoke!;
  const steps = smoke ? 2000 : Number(values.steps);
  const layers = smoke ? 8 : Number(values.layers);
  const experts = smoke ? 8 : Number(values.experts);
  const repeat = smoke ? 1 : Number(values.repeat);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "moe-page-bench-"));
  const file = path.resolve(smoke || !values.file ? path.join(tmp, "page.db") : values.file);
  if (!fs.existsSync(file)) {
    console.log(`seeding ${steps} steps x ${layers} layers x ${experts} experts into ${file} ...`);
    const s = await seedLargeRun({ file, steps, layers, experts, ranks: Math.min(8, experts), rankReportSteps: 4, fresh: true, log: (l) => console.log(`  ${l}`) });
    console.log(`seeded in ${s.seconds.toFixed(0)} s`);
  }
  const port = await freePort();
  const server = startCli(
    ["serve", "--port", String(port), "--collector-port", String(await freePort()), "--collector-host", "127.0.0.1", "--database", `file:${file}`],
    { DASHBOARD_AUTH: "off", INGEST_AUTH: "off" },
  );
  let browser: Browser | undefined;
  try {
    await waitForOutput(server, "dashboard listening on", 120_000);
    const base = `http://127.0.0.1:${port}`;
    const runs = (await (await fetch(`${base}/api/runs`)).json()) as Array<{ id: string; lastStep: number | null; numLayers: number }>;
    const run = runs.find((r) => r.lastStep === steps) ?? runs[0];
    if (!run) throw new Error(`no run in ${file}`);
    const url = `${base}/runs/${run.id}`;
    browser = await chromium.launch({
      executablePath: process.env.PLAYWRIGHT_CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    });
    const cold: LoadResult[] = [];
    const warm: LoadResult[] = [];
    for (let i = 0; i < repeat; i++) {
      const c = await loadOnce(browser, url);
      cold.push(c);
      warm.push(await loadOnce(browser, url, { ctx: c.ctx }));
      await c.ctx.close();
    }
    if (values.screenshot) {
      // A full-page picture once everything (the advice too) has loaded, to look at the page, not to time it.
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(url);
      await page.getByTestId("advice-panel").waitFor({ timeout: 120_000 });
      await page.screenshot({ path: values.screenshot, fullPage: true });
      await page.close();
    }
    const api: Array<{ label: string } & Awaited<ReturnType<typeof timeApi>>> = [];
    const last = run.lastStep ?? steps;
    const ranges: Array<[string, number]> = [["1,024 steps", 1024], ["20k steps", 20_000], [`all ${last} steps`, last]];
    for (const [label, span] of ranges) {
      if (span > last) continue;
      const from = Math.max(0, last - span + 1);
      const q = `${base}/api/runs/${run.id}/heatmap/experts?layer=1&from=${from}&to=${last}`;
      api.push({ label: `${label}, 400 columns (default)`, ...(await timeApi(q, smoke ? 2 : 10)) });
      if (span <= 1024) api.push({ label: `${label}, every step (maxColumns=1024)`, ...(await timeApi(`${q}&maxColumns=1024`, smoke ? 2 : 10)) });
    }
    const ms = (xs: LoadResult[], key: "fmpMs" | "drawnMs") => `${median(xs.map((x) => x[key])).toFixed(0)} ms (${xs.map((x) => x[key].toFixed(0)).join(", ")})`;
    const row = (name: string, xs: LoadResult[]) =>
      `| ${name} | ${ms(xs, "fmpMs")} | ${ms(xs, "drawnMs")} | ${median(xs.map((x) => x.htmlMs)).toFixed(0)} ms | ${(median(xs.map((x) => x.bytes)) / 1024).toFixed(0)} KiB | ${median(xs.map((x) => x.requests))} |`;
    console.log(`\nRun page, ${steps} steps x ${layers} MoE layers x ${experts} experts (${repeat} loads each, median; machine load varies)\n`);
    console.log("| load | first meaningful paint | heatmap canvases drawn (hydrated) | HTML received | transferred | requests |\n|---|---|---|---|---|---|");
    console.log(row("cold (empty cache)", cold));
    console.log(row("warm (reload)", warm));
    console.log("\nExperts x steps heatmap API, one layer (median of repeated GETs)\n");
    console.log("| range | latency | JSON bytes | columns |\n|---|---|---|---|");
    for (const a of api) console.log(`| ${a.label} | ${a.ms.toFixed(1)} ms | ${a.bytes} | ${a.columns} |`);
    if (values.json) fs.writeFileSync(values.json, JSON.stringify({ steps, layers, experts, cold, warm, api }, null, 2));
  } finally {
    await browser?.close();
    await server.stop();
    if (smoke || !values.file) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
