import { defineConfig } from "@playwright/test";

/**
 * Browser tests against the built app (CI runs `npm run build` first). e2e/global-setup.ts starts
 * `moe-telemetry serve` on free ports with a temporary SQLite database; tests drive the simulator.
 * Chromium is the system one (Debian's `chromium`); nothing is downloaded. Override its path with
 * PLAYWRIGHT_CHROMIUM_PATH. Dashboard login is on: global-setup signs the e2e admin in and saves the
 * session to STORAGE_STATE, which every page and request context starts with (e2e/auth.spec.ts starts
 * from an empty state where it tests signing in).
 */
export const STORAGE_STATE = "test-results/e2e-auth/admin.json";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/e2e",
  globalSetup: "./e2e/global-setup.ts",
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    viewport: { width: 1400, height: 1000 },
    storageState: STORAGE_STATE,
    screenshot: "only-on-failure",
    // Tracing snapshots the DOM on every action and slows a 2-core CI box enough to miss a short live run;
    // turn it on with PW_TRACE=1 when debugging.
    trace: process.env.PW_TRACE ? "retain-on-failure" : "off",
    launchOptions: {
      executablePath: process.env.PLAYWRIGHT_CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
});
