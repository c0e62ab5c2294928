import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, startCli, waitForOutput } from "./processes";

/**
 * globalSetup starts `moe-telemetry serve` (collector + built dashboard) on free ports with a fresh
 * SQLite file in a temporary directory; the returned function is Playwright's teardown.
 * Tests find the servers through E2E_BASE_URL and E2E_COLLECTOR (workers inherit this process's env).
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "moe-e2e-"));
  const port = await freePort();
  const collectorPort = await freePort();
  const server = startCli([
    "serve",
    "--port",
    String(port),
    "--collector-port",
    String(collectorPort),
    "--collector-host",
    "127.0.0.1",
    "--database",
    `file:${path.join(tmp, "e2e.db")}`,
  ]);
  try {
    await waitForOutput(server, "dashboard listening on", 120_000);
  } catch (err) {
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  process.env.E2E_BASE_URL = `http://127.0.0.1:${port}`;
  process.env.E2E_COLLECTOR = `127.0.0.1:${collectorPort}`;
  process.env.E2E_TMP = tmp;

  return async () => {
    await server.stop();
    fs.writeFileSync(path.join(os.tmpdir(), "moe-e2e-last-server.log"), server.output());
    fs.rmSync(tmp, { recursive: true, force: true });
  };
}
