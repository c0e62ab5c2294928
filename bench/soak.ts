/**
 * Soak: does the collector's memory level off under a steady live load? Starts `moe-telemetry collector`
 * (SQLite, default settings) with V8's --trace-gc, opens --ranks rank streams from this process (spread over
 * several HTTP/2 connections by TelemetryClient) and sends --steps-per-second steps per second, each rank one
 * batch of its MoE layers per step, for --minutes. Every --sample-s seconds it records the collector's RSS
 * (/proc/<pid>/status) and its live heap after the newest full (mark-compact) collection, from the GC trace:
 * the live heap is what a leak grows, RSS also holds V8's free space and native buffers. Prints a table per
 * minute and the growth of the last half against the first half. Bounded: it stops by itself.
 *
 *   npm run bench:soak -- [--ranks 1024] [--steps-per-second 2] [--minutes 12] [--experts 8] [--layers 8] [--pp 4]
 */
import fs from "node:fs";
import { benchArgs, runBench } from "./lib/cli";
import path from "node:path";
import { REPO_ROOT, spawnTracked, tempDir, waitForMatch } from "./lib/proc";
import { num, printTable } from "./lib/table";
import { TelemetryClient, type RankStream } from "../lib/client/TelemetryClient";
import { createSimulation } from "../lib/sim/createSimulation";

const args = benchArgs({
  ranks: { type: "string", default: "1024" },
  "steps-per-second": { type: "string", default: "2" },
  minutes: { type: "string", default: "12" },
  experts: { type: "string", default: "8" },
  layers: { type: "string", default: "8" },
  pp: { type: "string", default: "4" },
  "sample-s": { type: "string", default: "10" },
  out: { type: "string" },
});

interface Sample {
  s: number;
  rssMb: number;
  liveHeapMb: number;
  reports: number;
  acked: number;
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

runBench("soak", async () => {
  const ranks = Number(args.ranks);
  const perSecond = Number(args["steps-per-second"]);
  const minutes = args.smoke ? 0.3 : Number(args.minutes);
  const sampleMs = Number(args["sample-s"]) * 1000;
  // As `moe-telemetry collector` runs, with --trace-gc (which NODE_OPTIONS does not allow) on node's own command line.
  const dbFile = path.join(tempDir("moe-soak-"), "soak.db");
  const proc = spawnTracked(process.execPath, ["--trace-gc", path.join(REPO_ROOT, "bin/moe-telemetry.mjs"), "collector", "--host", "127.0.0.1", "--port", "0", "--database", `file:${dbFile}`], {
    env: { INGEST_AUTH: "off", LOG_LEVEL: "info" },
  });
  const m = await waitForMatch(proc, /collector listening on [^"]*:(\d+)/, 120_000);
  const p = { proc, grpc: `127.0.0.1:${m[1]}`, stop: () => proc.stop(30_000) };
  let liveHeapMb = Number.NaN;
  // "Mark-Compact 180.3 (200.1) -> 120.7 (190.0) MB": the heap after a full collection is the live heap.
  proc.child.stdout!.on("data", (c: Buffer) => {
    for (const m of c.toString().matchAll(/Mark-Compact[^\n]*?-> ([\d.]+) \(/g)) liveHeapMb = Number(m[1]);
  });
  const sim = createSimulation({ ranks, steps: 1_000_000, scenario: "balanced", numExperts: Number(args.experts), numLayers: Number(args.layers), pp: Number(args.pp), ep: 8, topk: 2 });
  const client = new TelemetryClient(p.grpc, { clientName: "soak" });
  const samples: Sample[] = [];
  let reports = 0;
  try {
    const runKey = "soak";
    await client.registerRun({ runKey, name: "soak", config: sim.config, worldSize: sim.worldSize, gpusPerNode: sim.gpusPerNode, gpuMemoryBytes: sim.gpuMemoryBytes, framework: "bench", frameworkVersion: "soak", simulated: true, commandLine: [] });
    const streams = new Map<number, RankStream>();
    for (const r of sim.ranks) streams.set(r.rank, client.openStream(runKey, r));
    const started = Date.now();
    const end = started + minutes * 60_000;
    let nextSample = started;
    for (let step = 1; Date.now() < end; step++) {
      const tick = Date.now();
      const s = sim.step(step);
      for (const [rank, stream] of streams) {
        const layers = s.layers.get(rank) ?? [];
        stream.send(layers, []);
        reports += layers.length;
      }
      if (Date.now() >= nextSample) {
        const acked = reports - [...streams.values()].reduce((a, st) => a + st.pending(), 0);
        samples.push({ s: (Date.now() - started) / 1000, rssMb: rssMb(p.proc.pid), liveHeapMb, reports, acked });
        nextSample += sampleMs;
      }
      // A client that cannot keep up waits for its acks rather than queue without bound.
      if (Math.max(...[...streams.values()].map((st) => st.pending())) > 64) await Promise.all([...streams.values()].map((st) => st.acked()));
      const wait = 1000 / perSecond - (Date.now() - tick);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all([...streams.values()].map((st) => st.close(120_000)));
    const seconds = (Date.now() - started) / 1000;
    samples.push({ s: seconds, rssMb: rssMb(p.proc.pid), liveHeapMb, reports, acked: reports });
    const perMinute = samples.filter((x, i) => i === 0 || i === samples.length - 1 || Math.floor(x.s / 60) !== Math.floor(samples[i - 1].s / 60));
    printTable(
      `soak: ${ranks} ranks, ${num(reports / seconds)} layer reports/s, ${num(seconds / 60, 1)} min (collector RSS and live heap after the newest full GC)`,
      ["time (min)", "RSS (MB)", "live heap (MB)", "reports sent"],
      perMinute.map((x) => [num(x.s / 60, 1), num(x.rssMb), num(x.liveHeapMb, 1), num(x.reports)]),
    );
    const half = samples.filter((x) => x.s >= seconds / 2);
    const slope = (key: "rssMb" | "liveHeapMb", xs: Sample[]) => {
      const n = xs.length;
      const mx = xs.reduce((a, x) => a + x.s, 0) / n;
      const my = xs.reduce((a, x) => a + x[key], 0) / n;
      const cov = xs.reduce((a, x) => a + (x.s - mx) * (x[key] - my), 0);
      const v = xs.reduce((a, x) => a + (x.s - mx) ** 2, 0);
      return (cov / v) * 60;
    };
    console.log(`second half: RSS ${num(slope("rssMb", half), 2)} MB/min, live heap ${num(slope("liveHeapMb", half.filter((x) => Number.isFinite(x.liveHeapMb))), 2)} MB/min`);
    if (args.out) fs.writeFileSync(args.out, JSON.stringify({ ranks, reportsPerSecond: reports / seconds, samples }, null, 1));
  } finally {
    client.close();
    await p.stop();
  }
});
