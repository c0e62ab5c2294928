import type { Page } from "@playwright/test";
import fs from "node:fs";
import { expect, runIdOf, test, uniqueRunKey } from "./fixtures";

// 16 ranks: ETP 1 x EP 4 x PP 2 (EDP 2); the oom scenario kills the busiest EP rank of the most loaded stage.
const LAYOUT = ["--ep", "4", "--pp", "2", "--layers", "8"];
const SHOTS = process.env.POSTMORTEM_SHOTS ?? "test-results/screenshots";

async function shoot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.evaluate("window.scrollTo(0, 0)");
  await page.emulateMedia({ colorScheme: "light" });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: `${SHOTS}/${name}-dark.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });
}

test.describe.serial("OOM post-mortem", () => {
  const runKey = uniqueRunKey("e2e-oom");
  let runId = "";

  test("the OOM event links to a post-mortem that names the EP rank, group and a layer with a ratio", async ({ page, request, simulate }) => {
    const sim = simulate({ runKey, ranks: 16, steps: 120, stepIntervalMs: 0, scenario: "oom", extra: LAYOUT });
    runId = await runIdOf(request, runKey);
    await expect.poll(async () => ((await (await request.get(`/api/runs/${runId}/events`)).json()) as Array<{ kind: string }>).some((e) => e.kind === "oom"), { timeout: 60_000 }).toBe(true);
    await sim.exited;
    const events = (await (await request.get(`/api/runs/${runId}/events`)).json()) as Array<{ id: string; kind: string; rank: number; step: number }>;
    const oom = events.find((e) => e.kind === "oom")!;
    const ranks = (await (await request.get(`/api/runs/${runId}`)).json()) as { derived: { edp: number } };

    await page.goto(`/runs/${runId}`);
    const row = page.locator('[data-testid="event-row"][data-kind="oom"]').first();
    await expect(row).toBeVisible();
    await row.getByTestId("postmortem-link").click();
    await expect(page).toHaveURL(new RegExp(`/runs/${runId}/oom/${oom.id}$`));
    await expect(page.getByTestId("postmortem-page")).toBeVisible();

    const api = await request.get(`/api/runs/${runId}/postmortem/${oom.id}`);
    expect(api.status()).toBe(200);
    const dto = (await api.json()) as {
      rank: { epRank: number; group: { index: number; edp: number; pp: number } };
      explanation: { text: string; findings: { worst: { layer: number; ratio: number } | null } };
      group: Array<{ rank: number; dying: boolean }>;
      layers: number[];
    };
    expect(dto.rank.group.index).toBe(dto.rank.group.pp * ranks.derived.edp + dto.rank.group.edp);
    // The simulator kills its group's busiest EP rank: the worst ratio is well above the mean.
    expect(dto.explanation.findings.worst).not.toBeNull();
    expect(dto.explanation.findings.worst!.ratio).toBeGreaterThan(1.3);
    expect(dto.layers).toContain(dto.explanation.findings.worst!.layer);

    const paragraph = page.getByTestId("postmortem-paragraph");
    await expect(paragraph).toContainText(`EP rank ${dto.rank.epRank} of dispatch group ${dto.rank.group.index}`);
    await expect(paragraph).toContainText(`global rank ${oom.rank}`);
    await expect(paragraph).toContainText(new RegExp(`received up to \\d+\\.\\d\\dx its share in layer ${dto.explanation.findings.worst!.layer} at step \\d+`));
    await expect(paragraph).toContainText(/Peak memory rose [\d.]+ GiB over \d+ steps/);
    // The page shows the same explanation the API returns.
    expect((await paragraph.textContent())?.trim()).toBe(dto.explanation.text);

    await expect(page.getByTestId("postmortem-memory")).toBeVisible();
    await expect(page.getByTestId("postmortem-memory").locator(".recharts-line").first()).toBeVisible();
    await expect(page.getByTestId("gpu-memory-legend")).toBeVisible();
    const panels = page.getByTestId("received-panel");
    await expect(panels).toHaveCount(dto.layers.length);
    await expect(panels.first()).toHaveAttribute("data-worst", "true");
    const groupRows = page.getByTestId("group-row");
    await expect(groupRows).toHaveCount(dto.group.length);
    expect(dto.group.length).toBe(4);
    await expect(page.locator(`[data-testid="group-row"][data-rank="${oom.rank}"]`)).toHaveAttribute("data-dying", "true");
    await shoot(page, "postmortem");
  });

  test("the oom alert in the banner leads to the same post-mortem; unknown events are 404", async ({ page, request }) => {
    const events = (await (await request.get(`/api/runs/${runId}/events`)).json()) as Array<{ id: string; kind: string }>;
    const oom = events.find((e) => e.kind === "oom")!;
    const alerts = (await (await request.get(`/api/runs/${runId}/alerts`)).json()) as Array<{ ruleId: string; status: string }>;
    if (alerts.some((a) => a.ruleId === "oom" && a.status === "firing")) {
      await page.goto(`/runs/${runId}`);
      const link = page.locator('[data-testid="alert-row"][data-rule="oom"]').getByTestId("alert-postmortem-link");
      await link.click();
      await expect(page).toHaveURL(new RegExp(`/runs/${runId}/oom/${oom.id}$`));
      await expect(page.getByTestId("postmortem-paragraph")).toBeVisible();
    }
    expect((await request.get(`/api/runs/${runId}/postmortem/nope`)).status()).toBe(404);
    expect((await request.get(`/api/runs/${runId}/postmortem/${oom.id}?window=1`)).status()).toBe(400);
    await page.goto(`/runs/${runId}/oom/nope`);
    await expect(page.getByTestId("postmortem-not-found")).toBeVisible();
  });
});

test("compare: two runs overlaid, the differing expert count highlighted", async ({ page, request, simulate }) => {
  const a = uniqueRunKey("e2e-cmp-a");
  const b = uniqueRunKey("e2e-cmp-b");
  const simA = simulate({ runKey: a, ranks: 8, steps: 30, stepIntervalMs: 0, scenario: "balanced", extra: ["--ep", "4", "--pp", "1", "--layers", "4", "--experts", "8"] });
  const simB = simulate({ runKey: b, ranks: 8, steps: 30, stepIntervalMs: 0, scenario: "early-imbalance", extra: ["--ep", "4", "--pp", "1", "--layers", "4", "--experts", "16"] });
  await Promise.all([simA.exited, simB.exited]);
  const idA = await runIdOf(request, a);
  const idB = await runIdOf(request, b);

  const api = (await (await request.get(`/api/compare?runs=${idA},${idB}&alignBy=tokens&layer=1`)).json()) as {
    runs: Array<{ id: string; series: Array<{ metric: string; points: Array<{ x: number }> }> }>;
    config: Array<{ name: string; values: string[]; differs: boolean }>;
  };
  expect(api.runs.map((r) => r.id)).toEqual([idA, idB]);
  for (const r of api.runs) expect(r.series.find((s) => s.metric === "maxVio")!.points.length).toBeGreaterThan(5);
  expect(api.config.find((c) => c.name === "num_experts")).toEqual(expect.objectContaining({ values: ["8", "16"], differs: true }));
  expect(api.config.find((c) => c.name === "expert_model_parallel_size")?.differs).toBe(false);

  await page.goto("/");
  await page.getByTestId("compare-link").click();
  await expect(page.getByTestId("compare-page")).toBeVisible();
  await page.locator(`[data-testid="compare-pick"][data-run-key="${a}"] input`).check();
  await page.locator(`[data-testid="compare-pick"][data-run-key="${b}"] input`).check();
  await page.getByTestId("compare-submit").click();
  await expect(page.getByTestId("compare-charts")).toHaveAttribute("data-runs", "2");
  const chart = page.getByTestId("compare-chart-maxVio");
  await expect(chart).toHaveAttribute("data-lines", "2");
  await expect(chart.locator(".recharts-line")).toHaveCount(2);
  await expect(page.locator('[data-testid="config-diff-row"][data-name="num_experts"]')).toHaveAttribute("data-differs", "true");
  await expect(page.locator('[data-testid="config-diff-row"][data-name="moe_router_topk"]')).toHaveAttribute("data-differs", "false");
  await shoot(page, "compare");
});
