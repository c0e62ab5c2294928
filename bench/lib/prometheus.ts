/**
 * Prometheus as our users would run it for this data: Debian's /usr/bin/prometheus on loopback with the
 * remote-write receiver and a temporary TSDB, no scrape jobs, fed one gauge sample per rank x layer x
 * expert per step over remote write (prompb.WriteRequest, protobuf encoded with protobufjs, snappy block
 * compression with snappyjs), queried with query_range. Started and stopped by its PID.
 */
import fs from "node:fs";
import path from "node:path";
import protobuf from "protobufjs";
import SnappyJS from "snappyjs";
import { cpuSeconds, diskBytes, freePort, spawnTracked, tempDir, waitUntil, type Child } from "./proc";
import type { Dataset } from "./shapes";

/** PROMETHEUS_BIN: Debian's package puts it here (scripts/setup.sh --test installs it). */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";

/** requirePrometheus fails with the fix when Prometheus is not installed. */
export function requirePrometheus(): void {
  if (!fs.existsSync(PROMETHEUS_BIN)) {
    throw new Error(
      `Prometheus is not installed (${PROMETHEUS_BIN} is missing). Install Debian's package with ` +
        "`bash scripts/setup.sh --test` (or `apt-get install prometheus`), or point PROMETHEUS_BIN at a binary.",
    );
  }
}

/** otherPrometheusPids: Prometheus processes this bench did not start (e.g. the Debian service); they add CPU noise. */
export function otherPrometheusPids(mine: number[] = []): number[] {
  const pids: number[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || mine.includes(Number(e))) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/comm`, "utf8").trim() === "prometheus") pids.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** PrometheusServer: a running Prometheus of this bench. */
export interface PrometheusServer {
  proc: Child;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** startPrometheus starts Prometheus on 127.0.0.1:<free port> with a fresh TSDB and waits until it is ready. */
export async function startPrometheus(): Promise<PrometheusServer> {
  requirePrometheus();
  const others = otherPrometheusPids();
  if (others.length > 0) {
    console.warn(`bench: another Prometheus is running (PID ${others.join(", ")}); it is left alone, but it competes for CPU. Stop it for clean numbers.`);
  }
  const dir = tempDir("moe-bench-prom-");
  const dataDir = path.join(dir, "data");
  const config = path.join(dir, "prometheus.yml");
  // No scrape jobs: everything arrives by remote write.
  fs.writeFileSync(config, "global:\n  scrape_interval: 1m\nscrape_configs: []\n");
  const port = await freePort();
  const proc = spawnTracked(PROMETHEUS_BIN, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--web.enable-remote-write-receiver",
    // For /api/v1/admin/tsdb/snapshot: the head written out as a compacted block, Prometheus's long-term form.
    "--web.enable-admin-api",
    "--storage.tsdb.retention.time=1d",
    "--log.level=warn",
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`Prometheus exited with ${proc.child.exitCode}:\n${proc.output().slice(-3000)}`);
      try {
        return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
      } catch {
        return undefined;
      }
    },
    60_000,
    "Prometheus to be ready",
  );
  return { proc, url, dataDir, stop: () => proc.stop(15_000) };
}

// prompb (Prometheus remote write 1.0): only the fields a sender fills.
const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: "repeated", type: "TimeSeries", id: 1 } } },
        TimeSeries: { fields: { labels: { rule: "repeated", type: "Label", id: 1 }, samples: { rule: "repeated", type: "Sample", id: 2 } } },
        Label: { fields: { name: { type: "string", id: 1 }, value: { type: "string", id: 2 } } },
        Sample: { fields: { value: { type: "double", id: 1 }, timestamp: { type: "int64", id: 2 } } },
      },
    },
  },
});
const WriteRequest = root.lookupType("prometheus.WriteRequest");

/** METRIC: the gauge name our users would push. */
export const METRIC = "moe_tokens";

/** RemoteWriteRequest: one encoded, compressed request and how many samples it carries. */
export interface RemoteWriteRequest {
  body: Uint8Array<ArrayBuffer>;
  samples: number;
}

/**
 * encodeRequests turns a dataset into remote-write requests: `stepsPerRequest` steps each, split into
 * `shards` streams by rank (rank % shards), like one writer per group of ranks; each shard's requests are
 * in time order so no sample is out of order. Timestamps are 1 s apart, the last step at `endMs`.
 */
export function encodeRequests(d: Dataset, run: string, stepsPerRequest: number, shards: number, endMs: number): RemoteWriteRequest[][] {
  const n = d.steps.length;
  const out: RemoteWriteRequest[][] = Array.from({ length: shards }, () => []);
  for (let first = 0; first < n; first += stepsPerRequest) {
    const chunk = d.steps.slice(first, first + stepsPerRequest);
    for (let shard = 0; shard < shards; shard++) {
      const series = new Map<string, { labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }>();
      let samples = 0;
      chunk.forEach((step, j) => {
        const timestamp = endMs - (n - 1 - (first + j)) * 1000;
        for (const [rank, reports] of step.layers) {
          if (rank % shards !== shard) continue;
          for (const r of reports) {
            r.tokensPerExpert.forEach((value, expert) => {
              const key = `${r.layer}/${rank}/${expert}`;
              let s = series.get(key);
              if (!s) {
                // Label names sorted, as Prometheus requires.
                const labels = [
                  { name: "__name__", value: METRIC },
                  { name: "expert", value: String(expert) },
                  { name: "layer", value: String(r.layer) },
                  { name: "rank", value: String(rank) },
                  { name: "run", value: run },
                ];
                series.set(key, (s = { labels, samples: [] }));
              }
              s.samples.push({ value, timestamp });
              samples++;
            });
          }
        }
      });
      if (samples === 0) continue;
      const raw = WriteRequest.encode(WriteRequest.fromObject({ timeseries: [...series.values()] })).finish();
      out[shard].push({ body: new Uint8Array(SnappyJS.compress(raw)), samples });
    }
  }
  return out;
}

/** PushResult: what one remote-write push cost Prometheus. */
export interface PushResult {
  samples: number;
  requests: number;
  seconds: number;
  cpuSeconds: number;
}

/** push sends every shard's requests (shards concurrently, each shard's in order) and measures Prometheus. */
export async function push(p: PrometheusServer, shards: RemoteWriteRequest[][]): Promise<PushResult> {
  const cpu0 = cpuSeconds(p.proc.pid);
  const t0 = performance.now();
  let samples = 0;
  let requests = 0;
  await Promise.all(
    shards.map(async (list) => {
      for (const req of list) {
        const res = await fetch(`${p.url}/api/v1/write`, {
          method: "POST",
          headers: {
            "content-type": "application/x-protobuf",
            "content-encoding": "snappy",
            "x-prometheus-remote-write-version": "0.1.0",
          },
          body: req.body,
        });
        if (res.status !== 204 && res.status !== 200) throw new Error(`Prometheus remote write: HTTP ${res.status}: ${(await res.text()).slice(0, 500)}`);
        samples += req.samples;
        requests++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { samples, requests, seconds, cpuSeconds: cpuSeconds(p.proc.pid) - cpu0 };
}

/** tsdbBytes: bytes of the TSDB directory (WAL, head chunks, blocks). */
export function tsdbBytes(p: PrometheusServer): number {
  return diskBytes(p.dataDir);
}

/**
 * blockBytes: bytes of the data as a compacted TSDB block (chunks + index), via the admin snapshot API,
 * which writes the in-memory head out as a block. This is what Prometheus keeps once the WAL is truncated
 * (every 2 h), so it is the fair long-term "bytes per sample"; the live directory also holds the WAL.
 */
export async function blockBytes(p: PrometheusServer): Promise<number> {
  const res = await fetch(`${p.url}/api/v1/admin/tsdb/snapshot?skip_head=false`, { method: "POST" });
  const body = (await res.json()) as { status: string; error?: string; data?: { name: string } };
  if (!res.ok || !body.data) throw new Error(`Prometheus snapshot: HTTP ${res.status}: ${body.error ?? "no name"}`);
  return diskBytes(path.join(p.dataDir, "snapshots", body.data.name));
}

/**
 * queryHeatmap runs the one-layer expert heatmap as a user would ask Prometheus for it:
 * sum by (expert) over ranks, over the whole run, `points` points; returns seconds and the series count.
 */
export async function queryHeatmap(
  p: PrometheusServer, run: string, layer: number, startMs: number, endMs: number, points: number,
): Promise<{ seconds: number; series: number; values: number; firstPoint: Map<number, number> }> {
  const step = Math.max(1, (endMs - startMs) / 1000 / points);
  const params = new URLSearchParams({
    query: `sum by (expert) (${METRIC}{run="${run}",layer="${layer}"})`,
    start: String(startMs / 1000),
    end: String(endMs / 1000),
    step: String(step),
  });
  const t0 = performance.now();
  const res = await fetch(`${p.url}/api/v1/query_range?${params}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
  };
  const seconds = (performance.now() - t0) / 1000;
  if (!res.ok || body.status !== "success" || !body.data) throw new Error(`Prometheus query_range: HTTP ${res.status}: ${body.error ?? "no data"}`);
  const values = body.data.result.reduce((a, s) => a + s.values.length, 0);
  // expert -> value at the first evaluation time (the run's first step), for the bench's same-data check.
  const firstPoint = new Map(body.data.result.map((s) => [Number(s.metric.expert), Number(s.values[0]?.[1])]));
  return { seconds, series: body.data.result.length, values, firstPoint };
}
