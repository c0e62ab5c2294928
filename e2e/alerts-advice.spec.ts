import type { APIRequestContext, Page } from "@playwright/test";
import { ALERT_RULE_IDS } from "../lib/analysis/alerts/alertRules";
import { expect, runIdOf, test, uniqueRunKey } from "./fixtures";

// 16 ranks: ETP 1 x EP 4 x PP 2 (EDP 2); 8 layers keep the run small. Early imbalance: the untrained router
// sends an EP rank well over 1.3x its group's mean for the first ~150 steps.
const LAYOUT = ["--ep", "4", "--pp", "2", "--layers", "8"];
/** A step inside the imbalanced window, so advice and the capacity what-if have something to say. */
const IMBALANCED_STEP = 60;

/** putGlobalRules replaces the global alert rule overrides (every rule id is sent; blank ones as {}). */
async function putGlobalRules(request: APIRequestContext, overrides: Record<string, object>): Promise<void> {
  const body = Object.fromEntries(ALERT_RULE_IDS.map((id) => [id, overrides[id] ?? {}]));
  const res = await request.put("/api/alert-rules", { data: body });
  expect(res.status(), await res.text()).toBe(200);
}

async function shoot(page: Page, name: string): Promise<void> {
  // From the top, so the sticky header is not drawn over the middle of a full-page capture.
  await page.evaluate("window.scrollTo(0, 0)");
  await page.emulateMedia({ colorScheme: "light" });
  await page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: `test-results/screenshots/${name}-dark.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });
}

test.describe.serial("alerts, advice and imbalance panels", () => {
  const runKey = uniqueRunKey("e2e-alerts");
  let runId = "";

  test.afterAll(async ({ request }) => {
    await putGlobalRules(request, {});
  });

  test("the alert banner shows an ep-imbalance-high alert while the run page is open, without reload", async ({ page, request, simulate }) => {
    // Rules that cannot fire yet: the alert must appear after the page opened, through the live stream.
    await putGlobalRules(request, { "ep-imbalance-high": { threshold: 100, forMs: 0 } });
    // 600 steps: the untrained-router window lasts ~250 steps (15 s), ample for the rule change to apply.
    const sim = simulate({ runKey, steps: 600, stepIntervalMs: 60, scenario: "early-imbalance", extra: LAYOUT });
    runId = await runIdOf(request, runKey);

    await page.goto(`/runs/${runId}`);
    await expect(page.getByTestId("run-page")).toBeVisible();
    await page.evaluate(() => ((window as unknown as { __e2eNoReload: boolean }).__e2eNoReload = true));
    const banner = page.getByTestId("alert-banner");
    await expect(banner).toBeHidden();

    // forMs 0 and a threshold the early router crosses at once; the collector reloads rules within 5 s.
    await putGlobalRules(request, { "ep-imbalance-high": { threshold: 1.3, forMs: 0, forSteps: 1, keepFiringMs: 600_000, keepFiringSteps: 100_000 } });
    // One banner line per rule, whatever the number of layers over the threshold.
    const row = banner.locator('[data-testid="alert-group"][data-rule="ep-imbalance-high"]');
    await expect(row).toBeVisible({ timeout: 20_000 });
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId("alert-group-headline")).toContainText(/layer \d+/);
    await expect(row).toHaveAttribute("data-severity", "critical");
    await expect(banner.getByTestId("simulated-badge")).toBeVisible();
    expect(await page.evaluate(() => (window as unknown as { __e2eNoReload?: boolean }).__e2eNoReload)).toBe(true);
    // The header's global count follows /api/live.
    await expect.poll(async () => Number((await page.getByTestId("alerts-indicator").getAttribute("data-count")) || "0")).toBeGreaterThan(0);
    // The link selects the alert's layer and step and scrolls to the advice panel.
    await row.getByTestId("alert-advice-link").click();
    await expect(page).toHaveURL(/[?&]layer=\d+&step=\d+#advice$/);
    await expect(page.getByTestId("advice-panel")).toBeInViewport();
    await shoot(page, "run-banner");
    await sim.stop();
  });

  test("the advice panel shows an ETP/EP and a capacity suggestion with numbers, as the API does", async ({ page, request }) => {
    await page.goto(`/runs/${runId}?step=${IMBALANCED_STEP}`);
    const panel = page.getByTestId("advice-panel");
    await expect(panel).toHaveAttribute("data-step", String(IMBALANCED_STEP));
    await expect(panel.getByTestId("simulated-badge")).toBeVisible();
    for (const kind of ["etp-ep", "capacity"]) {
      const card = panel.locator(`[data-testid="suggestion"][data-kind="${kind}"]`).first();
      await expect(card).toBeVisible();
      await expect(card.getByTestId("suggestion-numbers")).toContainText("→");
      await expect(card.getByTestId("suggestion-changes")).toContainText("--");
      await expect(card.getByTestId("suggestion-diff")).toContainText("+++ launch arguments (suggested)");
    }
    await expect(panel.locator('[data-testid="suggestion"][data-kind="etp-ep"]').first().getByTestId("suggestion-numbers")).toContainText(
      "worst EP rank / group mean",
    );
    await expect(panel.locator('[data-testid="suggestion"][data-kind="capacity"]').first().getByTestId("suggestion-numbers")).toContainText(
      "drop fraction",
    );
    const api = (await (await request.get(`/api/runs/${runId}/advice?step=${IMBALANCED_STEP}`)).json()) as { suggestions: Array<{ id: string }> };
    const shown = await panel.getByTestId("suggestion").evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    expect(shown.sort()).toEqual(api.suggestions.map((s) => s.id).sort());
    expect(api.suggestions.length).toBeGreaterThan(1);

    // The imbalance, EP-load and expert panels answer for the same step.
    await expect(page.getByTestId("imbalance-panel")).toHaveAttribute("data-metric", "epImbalance");
    await page.getByTestId("metric-maxVio").click();
    await expect(page).toHaveURL(/[?&]metric=maxVio/);
    await expect(page.getByTestId("imbalance-panel")).toHaveAttribute("data-metric", "maxVio");
    await expect(page.getByTestId("ep-load")).toContainText(`step ${IMBALANCED_STEP}`);
    await expect(page.locator('[data-testid="ep-bar"][data-worst="true"]')).toHaveCount(1);
    await expect(page.getByTestId("dedup-rule")).toContainText("all ranks (TP=1)");
    await shoot(page, "run-panels");
  });

  test("the capacity slider changes the drop % and the URL", async ({ page }) => {
    await page.goto(`/runs/${runId}?step=${IMBALANCED_STEP}&cf=1.25`);
    const panel = page.getByTestId("capacity-whatif");
    const worst = panel.getByTestId("capacity-worst-drop");
    await expect(worst).toHaveText(/%$/);
    const at125 = await worst.textContent();
    await panel.getByTestId("capacity-slider").fill("1");
    await expect(page).toHaveURL(/[?&]cf=1\.00(&|$)/);
    await expect(panel).toHaveAttribute("data-cf", "1");
    await expect(worst).not.toHaveText(at125 ?? "");
    await panel.getByTestId("capacity-slider").fill("4");
    await expect(page).toHaveURL(/[?&]cf=4\.00(&|$)/);
    // Nothing drops at 4.0: no "worst layer drops 0%", the summary says so instead.
    await expect(panel.getByTestId("capacity-summary")).toHaveText("no layer drops tokens at this capacity factor");
    await expect(worst).toHaveCount(0);
    await expect(panel.getByTestId("capacity-drop").first()).toHaveText("0%");
    await expect(panel.getByTestId("capacity-basis")).toContainText("Basis:");
    // The factor is in the URL, so a reload keeps it.
    await page.reload();
    await expect(page.getByTestId("capacity-whatif")).toHaveAttribute("data-cf", "4");
  });

  test("the alerts page lists the alert and its delivery log", async ({ page }) => {
    await page.goto(`/alerts?run=${runId}`);
    // Firing alerts are grouped per rule: open the group to reach its episodes.
    const group = page.getByTestId("alerts-firing").locator('[data-testid="alert-group"][data-rule="ep-imbalance-high"]');
    if ((await group.count()) > 0 && (await group.getAttribute("open")) === null) await group.locator("summary").click();
    const row = page.locator('[data-testid="alert-row"][data-rule="ep-imbalance-high"]').first();
    await expect(row).toBeVisible();
    await expect(row).toContainText("ep-imbalance-high");
    await expect(row.getByTestId("simulated-badge")).toBeVisible();
    await row.getByTestId("alert-expand").click();
    const log = page.getByTestId("alert-deliveries").first();
    await expect(log).toBeVisible();
    await expect(log).toHaveAttribute("data-state", "ok");
    await expect(log).toContainText("Webhook deliveries");
    await page.getByTestId("alerts-filter-status").selectOption("resolved");
    await expect(page).toHaveURL(/[?&]status=resolved/);
    await page.goto(`/alerts?run=${runId}`);
    await shoot(page, "alerts-page");
  });

  test("an invalid rule value shows the API's error, a valid one saves", async ({ page }) => {
    await page.goto("/alerts?rules");
    const editor = page.getByTestId("global-alert-rules").getByTestId("alert-rules-editor");
    await expect(editor).toBeVisible();
    await editor.getByTestId("rule-maxvio-high-forMs").fill("-5");
    await editor.getByTestId("rules-save").click();
    const err = editor.getByTestId("rules-error");
    await expect(err).toBeVisible();
    await expect(err).toContainText("maxvio-high.forMs");
    await shoot(page, "alerts-rules-error");
    await editor.getByTestId("rule-maxvio-high-forMs").fill("2500");
    await editor.getByTestId("rules-save").click();
    await expect(editor.getByTestId("rules-saved")).toBeVisible();
    await expect(editor.locator('[data-testid="rule-row"][data-rule="maxvio-high"]')).toContainText("2500 (2.5 s)");

    // Per run: the run page's collapsible editor writes the run's own overrides.
    await page.goto(`/runs/${runId}`);
    await page.getByTestId("run-alert-rules").locator("summary").click();
    const runEditor = page.getByTestId("run-alert-rules").getByTestId("alert-rules-editor");
    await runEditor.getByTestId("rule-ep-imbalance-high-threshold").fill("abc");
    await runEditor.getByTestId("rules-save").click();
    await expect(runEditor.getByTestId("rules-error")).toContainText("ep-imbalance-high.threshold");
  });
});
