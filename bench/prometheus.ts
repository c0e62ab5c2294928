/**
 * The side-by-side: the same simulated MoE telemetry pushed into Prometheus (remote write) and
 * into the product (`moe-telemetry serve`, SQLite, acks included), then the one-layer expert heatmap over
 * all steps queried from both, and the bytes each stored. One table per shape with the ratios against
 * the targets (ingest >= 2x Prometheus batched, heatmap >= 10x faster, bytes <= 0.5x).
 *
 *   npm run bench:prometheus -- [--shapes a,b,b1,c] [--steps N | --samples 4000000] [--points 400]
 *                               [--batch 16] [--shards 8] [--repeat 5] [--report ingest,query,storage] [--smoke]
 *   npm run bench:query   (= --report query)      npm run bench:storage   (= --report storage)
 *
 * Needs Debian's Prometheus (scripts/setup.sh --test installs it) and the built dashboard (`npm run build`).
 * Each shape gets a fresh Prometheus per mode and a fresh product; all are stopped by PID afterwards.
 * Prometheus samples are 1 s apart ending now; shards send rank groups concurrently, each in time order.
 */
import { benchArgs, runBench, stepsFor } from "./lib/cli";
import { databaseBytes, queryProductHeatmap, requireBuild, startProduct, streamDataset } from "./lib/product";
import { blockBytes, encodeRequests, push, queryHeatmap, requirePrometheus, startPrometheus, tsdbBytes, type PushResult } from "./lib/prometheus";
import { globalLoad, heatmapLayer, makeDataset, parseShapes, type Dataset } from "./lib/shapes";
import { median, ms, num, printTable, rate, ratio } from "./lib/table";

const args = benchArgs({
  points: { type: "string", default: "400" },
  batch: { type: "string", default: "16" },
  shards: { type: "string", default: "8" },
  repeat: { type: "string", default: "5" },
  report: { type: "string", default: "ingest,query,storage" },
});
const report = new Set(args.report.split(","));
const points = Number(args.points);
const repeat = args.smoke ? 2 : Number(args.repeat);
const shards = Number(args.shards);
// Prometheus rejects samples older than (newest - 1 h) into a fresh head: keep a run inside that window.
const MAX_PROMETHEUS_STEPS = 3_000;

interface PromSide {
  batched: PushResult;
  single?: PushResult;
  /** The live TSDB directory (WAL + head chunks) per sample. */
  bytesPerSample: number;
  /** The same data as a compacted block per sample. */
  blockBytesPerSample: number;
  query: number[];
  /** Seconds of the untimed request before the first query (see timeGet). */
  warmUp: number;
}

async function prometheusSide(d: Dataset): Promise<PromSide> {
  const layer = heatmapLayer(d);
  const n = d.steps.length;
  const endMs = Math.floor(Date.now() / 1000) * 1000;
  const startMs = endMs - (n - 1) * 1000;
  const prom = await startPrometheus();
  let side: PromSide;
  try {
    const base = tsdbBytes(prom);
    const batched = await push(prom, encodeRequests(d, "batched", Number(args.batch), shards, endMs));
    const bytesPerSample = (tsdbBytes(prom) - base) / batched.samples;
    const warmUp = await timeGet(`${prom.url}/-/ready`);
    const query: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const q = await queryHeatmap(prom, "batched", layer, startMs, endMs, points);
      if (q.series !== d.sim.config.num_experts) throw new Error(`Prometheus heatmap returned ${q.series} series, expected ${d.sim.config.num_experts}`);
      // Same data check: the first point is step 1's load summed over ranks, exactly as generated.
      const want = globalLoad(d, 0, layer);
      const bad = want.findIndex((v, e) => q.firstPoint.get(e) !== v);
      if (bad >= 0) throw new Error(`Prometheus holds ${q.firstPoint.get(bad)} for expert ${bad} of layer ${layer} at step 1, the data had ${want[bad]}`);
      query.push(q.seconds);
    }
    side = { batched, bytesPerSample, blockBytesPerSample: (await blockBytes(prom)) / batched.samples, query, warmUp };
  } finally {
    await prom.stop();
  }
  if (report.has("ingest")) {
    // A fresh Prometheus, so one step per request is measured on an empty head as the batched push was.
    const single = await startPrometheus();
    try {
      side.single = await push(single, encodeRequests(d, "single", 1, shards, Math.floor(Date.now() / 1000) * 1000));
    } finally {
      await single.stop();
    }
  }
  return side;
}

/**
 * timeGet: one GET whose answer does not depend on the data (Prometheus's readiness, the dashboard's health),
 * made before the first heatmap query and kept out of its time. Prometheus's first query runs on the
 * connection its pushes opened; the product's data came over gRPC, so without this its first query also
 * paid for a new HTTP connection and the first request to the dashboard process after the ingest (15-20 ms
 * here, whatever the request). Nothing the heatmap reads or caches is touched. Returns seconds.
 */
async function timeGet(url: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (performance.now() - t0) / 1000;
}

async function productSide(d: Dataset) {
  const product = await startProduct("serve");
  try {
    const ingest = await streamDataset(product.grpc, d, { runKey: `side-by-side-${d.shape.name}`, receiverPid: product.proc.pid });
    const query: number[] = [];
    const uncached: number[] = [];
    let columns = 0;
    const timed = async (maxColumns: number) => {
      const q = await queryProductHeatmap(product, ingest.runId, heatmapLayer(d), maxColumns);
      // Same data check: the first column is each expert's max over the steps of the first bucket (buckets are
      // aligned to step 0: bucket = floor(step / size); steps are 1-based).
      const want = d.steps
        .map((_, i) => i)
        .filter((i) => Math.floor((i + 1) / q.bucketSize) === Math.floor(1 / q.bucketSize))
        .map((i) => globalLoad(d, i, heatmapLayer(d)))
        .reduce((m, l) => m.map((v, e) => Math.max(v, l[e])));
      const bad = want.findIndex((v, e) => q.firstColumn[e] !== v);
      if (bad >= 0) throw new Error(`the product's heatmap shows ${q.firstColumn[bad]} for expert ${bad} in its first column, the data had ${want[bad]}`);
      return q;
    };
    const warmUp = await timeGet(`${product.http}/api/health`);
    for (let i = 0; i < repeat; i++) {
      const q = await timed(points);
      query.push(q.seconds);
      columns = q.columns;
    }
    // Answers the product has not cached (each asks for one column fewer): what every refresh costs while a
    // run is live and the database changes between requests. Prometheus has no result cache, so its repeats
    // are this kind of query too.
    for (let i = 1; i < repeat; i++) uncached.push((await timed(points - i)).seconds);
    await product.stop();
    return { ingest, query, uncached, warmUp, columns, bytesPerCount: databaseBytes(product) / ingest.counts };
  } finally {
    await product.stop();
  }
}

runBench("bench:prometheus", async () => {
  requirePrometheus();
  requireBuild();
  for (const shape of parseShapes(args.shapes ?? (args.smoke ? "a" : "a,b,b1,c"))) {
    const steps = Math.min(stepsFor(shape, args), MAX_PROMETHEUS_STEPS);
    const d = makeDataset(shape, steps);
    const prom = await prometheusSide(d);
    const mine = await productSide(d);
    const p = prom.batched;
    const promRate = p.samples / p.seconds;
    const promPerCpu = p.samples / p.cpuSeconds;
    const myRate = mine.ingest.counts / mine.ingest.seconds;
    const myPerCpu = mine.ingest.counts / mine.ingest.cpuSeconds;
    // The first query after the data is in is the cold one (the product caches heatmap answers until the
    // database changes; Prometheus has no result cache): the ratio uses the first, the repeats are shown.
    const promQuery = prom.query[0];
    const myQuery = mine.query[0];
    const rows: Array<Array<string | number>> = [];
    if (report.has("ingest")) {
      rows.push(["ingest, counts/s (acks included)", `${rate(promRate)} (batched ${args.batch} steps/request)`, rate(myRate), ratio(myRate, promRate), ">= 2x"]);
      rows.push(["ingest per receiver CPU-second", rate(promPerCpu), rate(myPerCpu), ratio(myPerCpu, promPerCpu), ">= 2x"]);
      if (prom.single) rows.push(["Prometheus, one step per request", `${rate(prom.single.samples / prom.single.seconds)}`, "", "", ""]);
    }
    if (report.has("query")) {
      rows.push([
        `one-layer expert heatmap, all ${steps} steps, ${points} points: first query (then median of ${repeat - 1} repeats)`,
        `${ms(promQuery)} (${ms(median(prom.query.slice(1)))})`,
        `${ms(myQuery)} (${ms(median(mine.query.slice(1)))})`,
        `${ratio(promQuery, myQuery)} faster`,
        ">= 10x faster",
      ]);
      rows.push([
        "before the first query, not counted: one request that reads no run data (/-/ready, /api/health)",
        ms(prom.warmUp),
        ms(mine.warmUp),
        "",
        "",
      ]);
      rows.push([
        `the same, not cached by the product (${points - 1}, ${points - 2}, ... points): median of ${repeat - 1}`,
        ms(median(prom.query.slice(1))),
        ms(median(mine.uncached)),
        `${ratio(median(prom.query.slice(1)), median(mine.uncached))} faster`,
        "",
      ]);
    }
    if (report.has("storage")) {
      rows.push(["bytes per sample, Prometheus as a compacted block", num(prom.blockBytesPerSample, 2), num(mine.bytesPerCount, 2), ratio(mine.bytesPerCount, prom.blockBytesPerSample), "<= 0.5x"]);
      rows.push(["bytes per sample, Prometheus's live directory (WAL + head chunks)", num(prom.bytesPerSample, 2), num(mine.bytesPerCount, 2), ratio(mine.bytesPerCount, prom.bytesPerSample), ""]);
    }
    printTable(
      `${shape.label}: 64 ranks, ${num(d.countsPerStep)} counts per step, ${steps} steps (${num(d.countsPerStep * steps)} samples)`,
      ["what", "Prometheus 2.42", "moe-telemetry (serve, SQLite)", "ratio", "target"],
      rows,
    );
  }
});
