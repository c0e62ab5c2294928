/**
 * The dashboard child process of `moe-telemetry serve` (cli/runServe.ts starts it through tsx's ESM loader, as
 * bin/moe-telemetry.mjs runs the CLI): `node --import tsx/esm cli/dashboardEntry.ts --port N` in the project
 * root. It serves until SIGTERM or SIGINT, then closes the server and exits as `next start` did (143 / 130).
 */
import { parseArgs } from "node:util";
import { startDashboardServer } from "../lib/web/http/dashboardServer";

const { values } = parseArgs({ options: { port: { type: "string", default: "3000" }, dir: { type: "string" } }, strict: true });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be a port number, got "${values.port}"`);
const dashboard = await startDashboardServer({ dir: values.dir ?? process.cwd(), port });

let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  dashboard.close().then(
    () => process.exit(code),
    (err: unknown) => {
      console.error("dashboard: shutdown failed:", err);
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => stop(143));
process.on("SIGINT", () => stop(130));
