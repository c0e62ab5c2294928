/**
 * `moe-telemetry simulate`: plays a SIMULATED Megatron-style MoE run (lib/sim) against a collector
 * through the TypeScript client, one stream per rank, and reports the ingest rate it achieved.
 * The run is registered with simulated=true, so the dashboard labels it everywhere.
 */
import { randomBytes } from "node:crypto";
import { createSimulation, type Scenario } from "../lib/sim/createSimulation";
import { TelemetryClient, type RankStream } from "../lib/client/TelemetryClient";

/** SimulateOptions: the command's options. */
export interface SimulateOptions {
  collector: string;
  ranks: number;
  steps: number;
  scenario: Scenario;
  experts: number;
  topk: number;
  layers: number;
  ep: number;
  pp: number;
  tp: number;
  cp: number;
  etp?: number;
  vpp?: number;
  moeLayerFreq?: string;
  seed: number;
  stepIntervalMs: number;
  runKey?: string;
  name?: string;
  json?: boolean;
  /** Ingest token (default: env MOE_TELEMETRY_TOKEN). */
  token?: string;
  /** TLS: CA of the collector's certificate, client certificate and key (PEM files; default: env MOE_TELEMETRY_TLS_*). */
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** SimulationSummary: what a simulation sent and how fast. */
export interface SimulationSummary {
  runKey: string;
  runId: string;
  steps: number;
  layerReports: number;
  stepSamples: number;
  counts: number;
  rejected: number;
  reconnects: number;
  oom: { rank: number; step: number; layer?: number } | null;
  seconds: number;
  reportsPerSecond: number;
  countsPerSecond: number;
}

/** simulateRun streams a simulated run to the collector and resolves once everything is acked. */
export async function simulateRun(o: SimulateOptions, progress?: (line: string) => void): Promise<SimulationSummary> {
  const sim = createSimulation({
    ranks: o.ranks,
    steps: o.steps,
    scenario: o.scenario,
    seed: o.seed,
    numExperts: o.experts,
    topk: o.topk,
    numLayers: o.layers,
    ep: o.ep,
    pp: o.pp,
    tp: o.tp,
    cp: o.cp,
    ...(o.etp ? { etp: o.etp } : {}),
    ...(o.vpp ? { vpp: o.vpp } : {}),
    ...(o.moeLayerFreq ? { moeLayerFreq: o.moeLayerFreq } : {}),
  });
  const runKey = o.runKey ?? `sim-${o.scenario}-${randomBytes(3).toString("hex")}`;
  let rejected = 0;
  let reconnectNotes = 0;
  const tls = o.tlsCa || o.tlsCert || o.tlsKey ? { ca: o.tlsCa, cert: o.tlsCert, key: o.tlsKey } : undefined;
  const client = new TelemetryClient(o.collector, {
    clientName: "moe-telemetry-simulator/0.1",
    ...(o.token ? { token: o.token } : {}),
    ...(tls ? { tls } : {}),
    onRejected: (rank, seq, r) => {
      rejected++;
      progress?.(`rank ${rank} batch ${seq}: ${r.field}: ${r.reason}`);
    },
    // Loud, but not one line per rank when a thousand streams reconnect at once.
    onReconnect: (rank, err) => {
      if (++reconnectNotes <= 10 || reconnectNotes % 100 === 0) progress?.(`rank ${rank}: stream broke (${reconnectNotes} so far): ${err.message}`);
    },
  });
  try {
    const reg = await client.registerRun({
      runKey,
      name: o.name ?? `Simulated ${o.scenario} (${o.ranks} ranks, ${o.experts} experts)`,
      config: sim.config,
      worldSize: sim.worldSize,
      gpusPerNode: sim.gpusPerNode,
      gpuMemoryBytes: sim.gpuMemoryBytes,
      framework: "simulator",
      frameworkVersion: "moe-telemetry simulate",
      simulated: true,
      // No Megatron launch line exists for a simulated run; the advisor derives flags from the config.
      commandLine: [],
    });
    progress?.(`run ${runKey} (${reg.runId}) registered: ${o.ranks} ranks, ${o.steps} steps, scenario ${o.scenario} [SIMULATED]`);
    const streams = new Map<number, RankStream>();
    for (const r of sim.ranks) streams.set(r.rank, client.openStream(runKey, r));
    const started = Date.now();
    let layerReports = 0;
    let stepSamples = 0;
    let counts = 0;
    let oom: SimulationSummary["oom"] = null;
    let lastStep = 0;
    for (let step = 1; step <= o.steps; step++) {
      const tick = Date.now();
      const s = sim.step(step);
      for (const [rank, stream] of streams) {
        const layers = s.layers.get(rank) ?? [];
        const sample = s.samples.get(rank);
        if (layers.length === 0 && !sample) continue;
        // The model has no clock: the sample is stamped when it is sent, as a real rank would.
        stream.send(layers, sample ? [{ ...sample, wallTimeMs: Date.now() }] : []);
        layerReports += layers.length;
        stepSamples += sample ? 1 : 0;
        for (const l of layers) counts += l.tokensPerExpert.length;
      }
      lastStep = step;
      if (s.oom) {
        // As a real rank does: the last gasp goes out first, then the run dies.
        await client.reportOom(runKey, { ...s.oom, wallTimeMs: Date.now() });
        oom = { rank: s.oom.rank, step: s.oom.step, ...(s.oom.layer === undefined ? {} : { layer: s.oom.layer }) };
        progress?.(`step ${step}: rank ${s.oom.rank} ran out of memory${s.oom.layer ? ` in layer ${s.oom.layer}` : ""}; the simulated run dies`);
        break;
      }
      if (step % 50 === 0 || step === o.steps) progress?.(`step ${step}/${o.steps}`);
      // Keep the number of unacked batches bounded, as a real client's buffer would.
      const backlog = Math.max(...[...streams.values()].map((st) => st.pending()));
      if (backlog > 64) await Promise.all([...streams.values()].map((st) => st.acked()));
      const wait = o.stepIntervalMs - (Date.now() - tick);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all([...streams.values()].map((st) => st.close(60_000)));
    const seconds = (Date.now() - started) / 1000;
    if (!oom) await client.reportEvent(runKey, 0, "FINISHED", lastStep, "simulation finished");
    const reconnects = [...streams.values()].reduce((a, st) => a + st.reconnects, 0);
    return {
      runKey,
      runId: reg.runId,
      steps: lastStep,
      layerReports,
      stepSamples,
      counts,
      rejected,
      reconnects,
      oom,
      seconds,
      reportsPerSecond: layerReports / seconds,
      countsPerSecond: counts / seconds,
    };
  } finally {
    client.close();
  }
}

/** runSimulate is the `simulate` command. */
export async function runSimulate(o: SimulateOptions): Promise<void> {
  const summary = await simulateRun(o, (line) => console.error(line));
  if (o.json) {
    console.log(JSON.stringify(summary));
  } else {
    console.log(
      `SIMULATED run ${summary.runKey}: ${summary.steps} steps, ${summary.layerReports} layer reports ` +
        `(${summary.reportsPerSecond.toFixed(0)} reports/s, ${(summary.countsPerSecond / 1e6).toFixed(2)} M counts/s), ` +
        `${summary.rejected} rejected, ${summary.reconnects} reconnects${summary.oom ? `, OOM on rank ${summary.oom.rank} at step ${summary.oom.step}` : ""}`,
    );
  }
}
