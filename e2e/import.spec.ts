/**
 * Importing a run from the dashboard: upload a real Megatron log, see the summary, open the run.
 */
import path from "node:path";
import { expect, test } from "./fixtures";

const LOG = path.resolve(import.meta.dirname, "../lib/importers/testdata/seunghyunseo-64e-top1-ep4.log");

test("uploads a Megatron log and shows what was imported", async ({ page }) => {
  await page.goto("/import");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Import" })).toBeVisible();
  const form = page.getByTestId("import-form");
  await form.locator('select[name="kind"]').selectOption("megatron-log");
  await form.locator('input[name="file"]').setInputFiles(LOG);
  await form.locator('input[name="run"]').fill(`imported-${Date.now()}`);
  // The log prints no arguments block: without sizes the series are imported with the MoE layout unknown.
  await form.getByRole("button", { name: "Import" }).click();
  const unknown = page.getByTestId("import-result");
  await expect(unknown).toContainText("iterations 20..1080");
  await expect(unknown).toContainText("MoE layout unknown");
  await unknown.getByRole("link").click();
  await expect(page.getByTestId("layout-unknown")).toContainText("--config");
  await expect(page.locator('[data-testid="scalar-series-chart"][data-name="load_balancing_loss"]')).toContainText("0.9994 @ 1080");

  // With the sizes, the same log gives a run with its layout.
  await page.goto("/import");
  await form.locator('select[name="kind"]').selectOption("megatron-log");
  await form.locator('input[name="file"]').setInputFiles(LOG);
  await form.locator('input[name="run"]').fill(`imported-sized-${Date.now()}`);
  await form.locator('input[name="layers"]').fill("16");
  await form.locator('input[name="experts"]').fill("64");
  await form.locator('input[name="topk"]').fill("1");
  await form.locator('input[name="worldSize"]').fill("8");
  await form.getByRole("button", { name: "Import" }).click();
  const result = page.getByTestId("import-result");
  await expect(result).toContainText("iterations 20..1080");
  await expect(result).toContainText("load_balancing_loss");
  await result.getByRole("link").click();
  await expect(page.getByTestId("run-page")).toBeVisible();
  await expect(page.getByText("imported from megatron-log", { exact: false }).first()).toBeVisible();
  // The log's run-level losses are charted, as logged (1.437 at iteration 20).
  const aux = page.locator('[data-testid="scalar-series-chart"][data-name="load_balancing_loss"]');
  await expect(aux).toBeVisible();
  await expect(aux).toContainText("0.9994 @ 1080");
  // The export links download the run.
  const csv = await page.request.get(await page.getByTestId("run-export").getByRole("link", { name: "JSON" }).getAttribute("href") ?? "");
  expect(csv.ok()).toBe(true);
  expect((await csv.json()).run.framework).toBe("megatron (imported from megatron-log)");
});
