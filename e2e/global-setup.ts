import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { request, type FullConfig } from "@playwright/test";
import { freePort, startCli, waitForOutput } from "./processes";

/** E2E_USERS: the admin created through the bootstrap environment, and a viewer the admin creates. */
export const E2E_USERS = {
  admin: { username: "e2e-admin", password: "e2e-admin-password" },
  viewer: { username: "e2e-viewer", password: "e2e-viewer-password" },
} as const;

/**
 * globalSetup starts `moe-telemetry serve` (collector + built dashboard) on free ports with a fresh
 * SQLite file in a temporary directory; the returned function is Playwright's teardown.
 * Dashboard login is on: the admin comes from MOE_ADMIN_USER/MOE_ADMIN_PASSWORD, a viewer is created
 * through the API, and the admin's signed-in state is saved to the config's storageState so every spec
 * runs as admin unless it says otherwise. Ingest auth is off here (tested in the integration suite).
 * Tests find the servers through E2E_BASE_URL and E2E_COLLECTOR (workers inherit this process's env).
 */
export default async function globalSetup(config: FullConfig): Promise<() => Promise<void>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "moe-e2e-"));
  const port = await freePort();
  const collectorPort = await freePort();
  const server = startCli(
    ["serve", "--port", String(port), "--collector-port", String(collectorPort), "--collector-host", "127.0.0.1", "--database", `file:${path.join(tmp, "e2e.db")}`],
    { INGEST_AUTH: "off", DASHBOARD_AUTH: "on", MOE_ADMIN_USER: E2E_USERS.admin.username, MOE_ADMIN_PASSWORD: E2E_USERS.admin.password },
  );
  const baseURL = `http://127.0.0.1:${port}`;
  try {
    await waitForOutput(server, "dashboard listening on", 120_000);
    const storageState = config.projects[0]?.use.storageState;
    if (typeof storageState !== "string") throw new Error("playwright.config.ts must set use.storageState to a file path");
    const ctx = await request.newContext({ baseURL });
    const login = await ctx.post("/api/auth/login", { data: E2E_USERS.admin });
    if (!login.ok()) throw new Error(`e2e admin login failed: HTTP ${login.status()} ${await login.text()}\n${server.output().slice(-4000)}`);
    const viewer = await ctx.post("/api/admin/users", { data: { ...E2E_USERS.viewer, role: "viewer" } });
    if (!viewer.ok()) throw new Error(`creating the e2e viewer failed: HTTP ${viewer.status()} ${await viewer.text()}`);
    fs.mkdirSync(path.dirname(storageState), { recursive: true });
    await ctx.storageState({ path: storageState });
    await ctx.dispose();
  } catch (err) {
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  process.env.E2E_BASE_URL = baseURL;
  process.env.E2E_COLLECTOR = `127.0.0.1:${collectorPort}`;
  process.env.E2E_TMP = tmp;

  return async () => {
    await server.stop();
    fs.writeFileSync(path.join(os.tmpdir(), "moe-e2e-last-server.log"), server.output());
    fs.rmSync(tmp, { recursive: true, force: true });
  };
}
