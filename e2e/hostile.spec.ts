/**
 * Hostile names and configs are shown as text, never run as markup (issue 10 part 4). A run registered
 * through the collector with an HTML-injection name, a `<script>` in its configuration and command line,
 * and markup in its framework string is opened in the run list and on its run page: the text is visible
 * literally, no <img>/<script> from the data exists in the DOM, and the payloads did not execute.
 * Also: an upload above the dashboard's import limit is refused with a message naming the limit.
 */
import { TelemetryClient } from "../lib/client/TelemetryClient";
import { expect, runIdOf, test, uniqueRunKey } from "./fixtures";

const NAME = "<img src=x onerror=window.__pwned=1>";
const SCRIPT = "<script>window.__pwned=2</script>";

test("a run named with HTML and a config holding <script> render as text and run nothing", async ({ page, request }) => {
  const collector = process.env.E2E_COLLECTOR;
  if (!collector) throw new Error("E2E_COLLECTOR is not set: e2e/global-setup.ts did not run");
  const runKey = uniqueRunKey("hostile");
  const client = new TelemetryClient(collector);
  try {
    await client.registerRun({
      runKey,
      name: NAME,
      config: {
        num_layers: 2,
        num_experts: 4,
        moe_router_topk: 2,
        tensor_model_parallel_size: 1,
        pipeline_model_parallel_size: 1,
        context_parallel_size: 1,
        expert_model_parallel_size: 1,
        moe_router_load_balancing_type: SCRIPT,
        extra: { note: SCRIPT, "<b>flag</b>": "javascript:window.__pwned=3" },
      },
      worldSize: 1,
      gpusPerNode: 1,
      gpuMemoryBytes: 80 * 2 ** 30,
      framework: "<b>megatron</b>",
      frameworkVersion: SCRIPT,
      simulated: false,
      commandLine: ["pretrain_gpt.py", "--note", SCRIPT],
    });
  } finally {
    client.close();
  }
  const runId = await runIdOf(request, runKey);
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });

  await page.goto("/");
  await expect(page.getByText(NAME, { exact: true }).first()).toBeVisible();
  await page.goto(`/runs/${encodeURIComponent(runId)}`);
  await expect(page.getByText(NAME, { exact: true }).first()).toBeVisible();
  const config = page.getByTestId("config-panel");
  await expect(config).toContainText(SCRIPT);
  await expect(config).toContainText("<b>flag</b>");
  await config.getByText("Command line").click();
  await expect(page.getByTestId("command-line")).toContainText(SCRIPT);

  // Nothing from the data became markup, and nothing ran.
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(await page.locator("b", { hasText: "megatron" }).count()).toBe(0);
  // The payload text is inside Next's serialized page data (a JSON string); as a script of its own it would read exactly so.
  const injectedScripts = await page.locator("script").evaluateAll((els) => els.filter((e) => (e.textContent ?? "").trim() === "window.__pwned=2").length);
  expect(injectedScripts).toBe(0);
  expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(dialogs).toEqual([]);
});

test("an upload above the import limit is refused before it is buffered, naming the limit", async ({ request }) => {
  // 65 MiB of body: over LIMITS.maxImportUploadBytes (64 MiB) plus the form's framing allowance.
  const big = Buffer.alloc(65 * 1024 * 1024 + 1, 0x61);
  const res = await request.post("/api/import", { multipart: { kind: "megatron-log", file: { name: "huge.log", mimeType: "text/plain", buffer: big } } });
  expect(res.status()).toBe(400);
  expect(await res.text()).toMatch(/larger than 64 MiB \(LIMITS\.maxImportUploadBytes\)/);
});
