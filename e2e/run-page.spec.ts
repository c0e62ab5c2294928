import type { Locator, Page } from "@playwright/test";
import { expect, test, uniqueRunKey } from "./fixtures";

// 16 ranks need a parallel layout that divides them: ETP 1 x EP 4 x PP 2 = 8 (the simulator's defaults need 32).
const LAYOUT = ["--ep", "4", "--pp", "2"];

async function intAttr(locator: Locator, name: string): Promise<number> {
  return Number((await locator.getAttribute(name)) ?? "0");
}

async function openRunFromList(page: Page, runKey: string): Promise<void> {
  const row = page.getByTestId("run-row").filter({ hasText: runKey });
  await expect(row).toBeVisible();
  await row.getByRole("link").first().click();
  await expect(page).toHaveURL(/\/runs\//);
  await expect(page.getByTestId("run-page")).toBeVisible();
}

test("a simulated run appears live in the runs list and its run page fills without reload", async ({ page, simulate }) => {
  const runKey = uniqueRunKey("e2e");
  // Open the list first: the run must appear through the live refresh, not through a navigation.
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Runs", exact: true })).toBeVisible();
  // A document reload would drop this marker; client-side refreshes and navigations keep it.
  await page.evaluate(() => ((window as unknown as { __e2eNoReload: boolean }).__e2eNoReload = true));
  const notReloaded = () => page.evaluate(() => (window as unknown as { __e2eNoReload?: boolean }).__e2eNoReload === true);

  const sim = simulate({ runKey, ranks: 16, steps: 80, stepIntervalMs: 100, extra: LAYOUT });

  const row = page.getByTestId("run-row").filter({ hasText: runKey });
  await expect(row).toBeVisible();
  await expect(row.getByTestId("simulated-badge")).toHaveText("SIMULATED");
  await expect(row.getByTestId("status-badge")).toBeVisible();
  expect(await notReloaded()).toBe(true);
  await page.screenshot({ path: "test-results/screenshots/runs-list.png", fullPage: true });

  await openRunFromList(page, runKey);
  // The header's badge (the banner and advice panel carry their own further down).
  await expect(page.getByTestId("run-page").getByTestId("simulated-badge").first()).toBeVisible();

  const auxChart = page.getByTestId("aux-loss-chart");
  const zChart = page.getByTestId("z-loss-chart");
  const layerHeatmap = page.getByTestId("layer-expert-heatmap");
  const stepHeatmap = page.getByTestId("expert-step-heatmap");

  // One baseline of every count right after the page opened, then growth of each while the simulation
  // runs: nothing reloads the page, so only the live stream can make them grow.
  const counts = async () => ({
    aux: await intAttr(auxChart, "data-points"),
    z: await intAttr(zChart, "data-points"),
    layerCells: await intAttr(layerHeatmap, "data-cells"),
    stepCells: await intAttr(stepHeatmap, "data-cells"),
    liveStep: Number((await page.getByTestId("run-live").getAttribute("data-last-step")) || "0"),
  });
  const first = await counts();
  test.info().annotations.push({ type: "baseline", description: JSON.stringify(first) });
  expect(first.liveStep, "the run page opened after the simulation ended; nothing left to watch").toBeLessThan(80);

  await expect.poll(async () => (await counts()).aux).toBeGreaterThan(first.aux);
  await expect.poll(async () => (await counts()).z).toBeGreaterThan(first.z);
  await expect.poll(async () => (await counts()).stepCells).toBeGreaterThan(first.stepCells);
  await expect.poll(async () => (await counts()).liveStep).toBeGreaterThan(first.liveStep);
  await expect.poll(async () => (await counts()).layerCells).toBeGreaterThan(0);
  // The counts are visible text too, not just attributes.
  await expect(page.getByTestId("aux-loss-chart-count")).toContainText("points");
  await expect(page.getByTestId("layer-expert-heatmap-count")).toContainText("cells");
  expect(await notReloaded()).toBe(true);

  // Let the run end; the final step shows without a reload.
  expect(await sim.exited).toBe(0);
  // The simulator numbers steps from 1, so an 80-step run ends at step 80.
  await expect(page.getByTestId("snapshot-step")).toHaveText("80");
  await expect(page.getByTestId("run-page").getByTestId("status-badge")).toHaveAttribute("data-status", "finished");

  // Selections live in the URL, so a view can be shared.
  const chip = page.getByTestId("layer-strip").getByRole("button").nth(1);
  const layer = (await chip.textContent())?.trim();
  await chip.click();
  await expect(page).toHaveURL(new RegExp(`[?&]layer=${layer}(&|$)`));
  await expect(stepHeatmap.getByRole("heading")).toContainText(`layer ${layer}`);
  await page.reload();
  await expect(page.getByTestId("layer-strip").getByRole("button", { name: layer, exact: true })).toHaveAttribute("aria-pressed", "true");

  await page.screenshot({ path: "test-results/screenshots/run-page.png", fullPage: true });

  // Dark mode: the OS preference is followed, and the toggle's explicit choice overrides it and persists.
  await page.emulateMedia({ colorScheme: "dark" });
  await expect(page.locator("html")).toHaveClass(/\bdark\b/);
  await page.screenshot({ path: "test-results/screenshots/run-page-dark.png", fullPage: true });
  const toggle = page.getByTestId("theme-toggle");
  await toggle.click(); // system -> light
  await expect(toggle).toContainText("light");
  await expect(page.locator("html")).not.toHaveClass(/\bdark\b/);
  await page.reload();
  await expect(page.locator("html")).not.toHaveClass(/\bdark\b/);
  await page.getByTestId("theme-toggle").click(); // light -> dark
  await page.getByTestId("theme-toggle").click(); // dark -> system (dark OS)
  await expect(page.locator("html")).toHaveClass(/\bdark\b/);
  await page.emulateMedia({ colorScheme: "light" });

  await page.goto("/");
  await expect(page.getByTestId("run-row").filter({ hasText: runKey }).getByTestId("status-badge")).toHaveAttribute(
    "data-status",
    "finished",
  );
  await page.screenshot({ path: "test-results/screenshots/runs-list-after.png", fullPage: true });
});

test("an OOM run shows the OOM as a marker on the loss chart and in the events list", async ({ page, simulate }) => {
  const runKey = uniqueRunKey("e2e-oom");
  const sim = simulate({ runKey, ranks: 16, steps: 80, stepIntervalMs: 20, scenario: "oom", extra: LAYOUT });
  await sim.exited;

  await page.goto("/");
  await openRunFromList(page, runKey);
  await expect(page.getByTestId("run-page").getByTestId("status-badge")).toHaveAttribute("data-status", "oom");

  const oomEvent = page.getByTestId("events-list").locator('[data-testid="event-row"][data-kind="oom"]').first();
  await expect(oomEvent).toBeVisible();
  await expect(oomEvent).toContainText("OOM");
  const aux = page.getByTestId("aux-loss-chart");
  await expect(aux.locator('[data-testid="event-marker"][data-kind="oom"]').first()).toContainText("OOM");
  await expect.poll(() => intAttr(aux, "data-markers")).toBeGreaterThan(0);
  // The marker is drawn on the chart itself (a recharts ReferenceLine at the OOM step).
  await expect(aux.locator(".event-marker-oom").first()).toBeAttached();
  await page.screenshot({ path: "test-results/screenshots/run-page-oom.png", fullPage: true });
});

test("the heatmaps show from the server's HTML before any script has loaded; the canvases then take over with tooltips", async ({ page, browser, simulate }) => {
  const runKey = uniqueRunKey("e2e-preview");
  expect(await simulate({ runKey, ranks: 16, steps: 40, stepIntervalMs: 10, extra: LAYOUT }).exited).toBe(0);
  await page.goto("/");
  await openRunFromList(page, runKey);
  const runUrl = page.url();

  // The page's own scripts never arrive: what shows is the server's HTML (Next's inline scripts still reveal
  // the streamed sections, as they do before hydration).
  const bare = await browser.newPage();
  await bare.route(/\/_next\/static\/.*\.js$/, (route) => route.abort());
  await bare.goto(runUrl);
  const stepHeatmap = bare.getByTestId("expert-step-heatmap");
  const [, columns, experts] = /(\d+) columns × (\d+) experts/.exec((await bare.getByTestId("expert-step-heatmap-count").textContent()) ?? "") ?? [];
  expect(Number(columns)).toBeGreaterThan(0);
  // One pixel per cell, the light theme's image displayed (the dark one is hidden by CSS).
  const image = stepHeatmap.getByTestId("expert-step-heatmap-preview").locator("img").first();
  await expect(image).toBeVisible();
  await expect(image).toHaveJSProperty("naturalWidth", Number(columns));
  await expect(image).toHaveJSProperty("naturalHeight", Number(experts));
  await expect(stepHeatmap.getByTestId("expert-step-heatmap-preview").locator("img").last()).toBeHidden();
  for (const id of ["imbalance-heatmap", "layer-expert-heatmap"]) {
    await expect(bare.getByTestId(`${id}-preview`).locator("img").first()).toHaveJSProperty("complete", true);
    expect(await bare.getByTestId(`${id}-preview`).locator("img").first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  }
  // Labels are HTML, there before any script: experts down the side, steps along the bottom.
  await expect(stepHeatmap.getByTestId("expert-step-heatmap-row-labels")).toContainText("E0");
  await expect(stepHeatmap.getByTestId("expert-step-heatmap-col-labels")).toContainText("step");
  await expect(stepHeatmap.getByTestId("expert-step-heatmap-canvas")).not.toHaveAttribute("data-drawn", /./);
  await stepHeatmap.screenshot({ path: "test-results/screenshots/expert-step-heatmap-before-scripts.png" });
  await bare.close();

  // With scripts: the canvas draws, the image is dropped, and the cells answer the pointer.
  const hydrated = page.getByTestId("expert-step-heatmap");
  const canvas = hydrated.getByTestId("expert-step-heatmap-canvas");
  await expect(canvas).toHaveAttribute("data-drawn", `${experts}x${columns}`);
  await expect(hydrated.getByTestId("expert-step-heatmap-preview")).toHaveCount(0);
  const box = (await canvas.boundingBox())!;
  await canvas.hover({ position: { x: box.width / 2, y: 10 } });
  await expect(hydrated.getByTestId("expert-step-heatmap-tooltip")).toContainText("utilization");
});

test("an unknown run id shows the not-found page", async ({ page }) => {
  await page.goto("/runs/does-not-exist");
  await expect(page.getByRole("heading", { name: "Unknown run" })).toBeVisible();
});
