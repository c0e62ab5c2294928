/**
 * Process helpers for the benches: every child is started in its own process group, remembered, and
 * killed by its PID when the bench ends (normally, on an error, or on SIGINT/SIGTERM), so a bench never
 * leaves a collector or a Prometheus behind. CPU time and memory are read from /proc/<pid>, so what is
 * measured is the server's own work, not the bench driver's.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../e2e/processes";

export { freePort };

/** REPO_ROOT: the checkout these benches measure. */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");

/** Child: a tracked child process with its recent output kept for error messages. */
export interface Child {
  pid: number;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** stop sends SIGTERM to the child's group, then SIGKILL after graceMs; resolves when it has exited. */
  stop: (graceMs?: number) => Promise<void>;
}

const live = new Set<Child>();
const tempDirs = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Last resort: synchronous kill of every child still running and removal of temp dirs.
  process.on("exit", () => {
    for (const c of live) signalGroup(c.pid, "SIGKILL");
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      console.error(`bench: ${sig}, stopping ${live.size} child process(es)`);
      void Promise.all([...live].map((c) => c.stop(2_000))).finally(() => process.exit(130));
    });
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** spawnTracked starts `cmd args` in its own process group and tracks it until it exits. */
export function spawnTracked(cmd: string, args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): Child {
  hookExit();
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  const pid = child.pid;
  let out = "";
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const tracked: Child = {
    pid,
    child,
    output: () => out,
    exited,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        signalGroup(pid, "SIGTERM");
        const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      live.delete(tracked);
    },
  };
  live.add(tracked);
  void exited.then(() => live.delete(tracked));
  return tracked;
}

/** startCliProcess runs `node bin/moe-telemetry.mjs ...args` as a tracked child. */
export function startCliProcess(args: string[], env: Record<string, string | undefined> = {}): Child {
  return spawnTracked(process.execPath, [path.join(REPO_ROOT, "bin", "moe-telemetry.mjs"), ...args], { env });
}

/** startTsProcess runs a TypeScript file of this repo through tsx as a tracked child. */
export function startTsProcess(file: string, args: string[], env: Record<string, string | undefined> = {}): Child {
  return spawnTracked(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, file), ...args], { env });
}

/** waitForMatch resolves with the first match of `re` in the child's output; fails on exit or timeout. */
export async function waitForMatch(c: Child, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return waitUntil(
    () => {
      if (c.child.exitCode !== null) throw new Error(`process ${c.pid} exited with ${c.child.exitCode} before printing ${re}:\n${c.output().slice(-3000)}`);
      return re.exec(c.output()) ?? undefined;
    },
    timeoutMs,
    `process ${c.pid} printing ${re}`,
  );
}

/** waitUntil polls `probe` (every 50 ms) until it returns a value; bounded by timeoutMs. */
export async function waitUntil<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const CLOCK_TICKS = Number(safeExec("getconf", ["CLK_TCK"]) || 100);

function safeExec(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

/** cpuSeconds: user + system CPU time of one process so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS;
}

/** rssBytes: resident memory of one process now, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** diskBytes: bytes allocated on disk under a path (like `du -sb`, apparent sizes of regular files). */
export function diskBytes(p: string): number {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of fs.readdirSync(p)) total += diskBytes(path.join(p, e));
  return total;
}

/** tempDir makes a temporary directory removed when the bench exits. */
export function tempDir(prefix: string): string {
  hookExit();
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

/** loadAverage: the 1/5/15-minute load, for the tables' machine-load caveat. */
export function loadAverage(): string {
  return os.loadavg().map((x) => x.toFixed(2)).join(" / ");
}
