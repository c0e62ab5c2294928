/**
 * Stopping `moe-telemetry serve` stops the whole service: the collector and its dashboard child. `serve` exits
 * only once the dashboard has exited, even while a browser holds a live stream open (the dashboard gives such
 * requests 3 s), and the database is left as one file: the last connection to close folds SQLite's WAL back in.
 */
import { request as httpRequest, type ClientRequest } from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { freePort, startCli, waitForOutput } from "./processes";

/** childPids: the processes whose parent is `pid` (from /proc). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("SIGTERM to serve: it exits after its dashboard, with a live stream open, and leaves no WAL", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "moe-e2e-shutdown-"));
  const file = path.join(tmp, "shutdown.db");
  const port = await freePort();
  const collectorPort = await freePort();
  const server = startCli(
    ["serve", "--port", String(port), "--collector-port", String(collectorPort), "--collector-host", "127.0.0.1", "--database", `file:${file}`],
    { INGEST_AUTH: "off", DASHBOARD_AUTH: "off" },
  );
  let live: ClientRequest | undefined;
  try {
    await waitForOutput(server, "dashboard listening on", 120_000);
    const dashboards = childPids(server.child.pid!);
    expect(dashboards, "serve runs the dashboard as one child process").toHaveLength(1);

    const sim = startCli(["simulate", "--collector", `127.0.0.1:${collectorPort}`, "--ranks", "8", "--ep", "4", "--pp", "2", "--layers", "8", "--steps", "20", "--step-interval-ms", "0", "--run-key", "shutdown"]);
    expect(await sim.exited, sim.output()).toBe(0);
    expect(fs.statSync(`${file}-wal`).size, "the collector's commits are in the WAL while it runs").toBeGreaterThan(0);
    const runs = (await (await fetch(`http://127.0.0.1:${port}/api/runs`)).json()) as Array<{ id: string; runKey: string }>;
    const runId = runs.find((r) => r.runKey === "shutdown")!.id;

    // A browser's live stream, open while serve is told to stop: the dashboard waits up to 3 s for it.
    const streaming = new Promise<void>((resolve, reject) => {
      live = httpRequest(`http://127.0.0.1:${port}/api/runs/${runId}/live`, (res) => {
        expect(res.headers["content-type"]).toMatch(/text\/event-stream/);
        res.once("data", () => resolve());
        res.on("error", () => {});
      });
      live.on("error", () => {});
      live.once("error", reject);
      live.end();
    });
    await streaming;

    // The serve process alone, as `kill PID` or a supervisor that signals the main process does.
    const exited = server.exited;
    process.kill(server.child.pid!, "SIGTERM");
    expect(await exited).toBe(0);
    expect(alive(dashboards[0]), "the dashboard process is gone when serve has exited").toBe(false);
    expect(fs.existsSync(`${file}-wal`), "no WAL left beside the database").toBe(false);
    expect(server.output()).toMatch(/shutting down/);
    expect(server.output()).not.toMatch(/did not exit after SIGTERM/);
  } finally {
    live?.destroy();
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
