import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";

/** REPO_ROOT: the checkout the tests run against (bin/moe-telemetry.mjs lives here). */
export const REPO_ROOT = path.resolve(import.meta.dirname, "..");

/** freePort asks the OS for a port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Spawned: a child process in its own process group, with its output kept for failure messages. */
export interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop: (graceMs?: number) => Promise<void>;
}

/** startCli runs `node bin/moe-telemetry.mjs ...args` in its own process group so stop() ends its children too. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): Spawned {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin", "moe-telemetry.mjs"), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stop = async (graceMs = 8_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child, "SIGTERM");
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { child, output: () => out, exited, stop };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** waitForOutput resolves when the process prints `needle`, and fails if it exits first or time runs out. */
export function waitForOutput(p: Spawned, needle: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (p.output().includes(needle)) {
        clearInterval(timer);
        resolve();
      } else if (p.child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`process exited with ${p.child.exitCode} before printing "${needle}":\n${p.output().slice(-4000)}`));
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`no "${needle}" after ${timeoutMs} ms:\n${p.output().slice(-4000)}`));
      }
    }, 100);
  });
}
