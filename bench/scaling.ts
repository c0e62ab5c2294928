/**
 * Scaling of ingest: how the collector's cost grows with ranks, layers, experts and steps (one factor
 * varied at a time around shape (b): 64 ranks, 16 layers, PP 4, EP 8, 64 experts), and the largest run one
 * collector on this machine follows in real time: runs of growing size sent at one step per second per
 * rank (all ranks together), for --follow-steps steps each, until the ack lag grows (the last steps' lag
 * twice the first steps' or over one step interval).
 *
 *   npm run bench:scaling -- [--steps 128] [--follow-steps 20] [--interval-ms 1000] [--skip-cost] [--skip-follow] [--smoke]
 */
import { benchArgs, runBench } from "./lib/cli";
import { databaseBytes, startProduct, streamDataset } from "./lib/product";
import { makeDataset, SHAPES, type Shape } from "./lib/shapes";
import { median, num, printTable, rate } from "./lib/table";

const args = benchArgs({
  "follow-steps": { type: "string", default: "20" },
  "interval-ms": { type: "string", default: "1000" },
  "skip-cost": { type: "boolean", default: false },
  "skip-follow": { type: "boolean", default: false },
});
const base = SHAPES.b.options;

interface Variant {
  factor: string;
  value: string;
  shape: Shape;
  ranks: number;
  steps?: number;
}

function variant(factor: string, value: string, opts: Partial<Shape["options"]>, ranks = 64, steps?: number): Variant {
  return { factor, value, ranks, steps, shape: { name: `${factor}-${value}`, label: `${factor} ${value}`, options: { ...base, ...opts } } };
}

const COST: Variant[] = args.smoke
  ? [variant("ranks", "32", {}, 32), variant("experts", "8", { numExperts: 8, topk: 2 })]
  : [
      variant("ranks", "32", {}, 32), variant("ranks", "64", {}), variant("ranks", "128", {}, 128),
      variant("layers", "8", { numLayers: 8 }), variant("layers", "32", { numLayers: 32 }), variant("layers", "64", { numLayers: 64 }),
      variant("experts", "8", { numExperts: 8, topk: 2 }), variant("experts", "256", { numExperts: 256, topk: 8 }),
      variant("steps", "64", {}, 64, 64), variant("steps", "256", {}, 64, 256), variant("steps", "1024", {}, 64, 1024),
    ];

// Growing runs for the real-time test: counts per step = ranks x (MoE layers per stage) x experts.
const FOLLOW: Variant[] = args.smoke
  ? [variant("follow", "a", SHAPES.a.options)]
  : [
      variant("follow", "a", SHAPES.a.options), variant("follow", "b", base), variant("follow", "b1", SHAPES.b1.options),
      variant("follow", "c", SHAPES.c.options), variant("follow", "c x2 ranks", SHAPES.c.options, 128),
      variant("follow", "c x4 ranks", SHAPES.c.options, 256),
    ];

async function ingestOnce(v: Variant, steps: number, stepIntervalMs?: number) {
  const d = makeDataset(v.shape, steps, v.ranks);
  const product = await startProduct("collector");
  try {
    const r = await streamDataset(product.grpc, d, { runKey: `scaling-${v.shape.name}`, receiverPid: product.proc.pid, stepIntervalMs });
    await product.stop();
    return { d, r, bytes: databaseBytes(product) };
  } finally {
    await product.stop();
  }
}

runBench("bench:scaling", async () => {
  if (!args["skip-cost"]) {
    const rows: Array<Array<string | number>> = [];
    for (const v of COST) {
      // The same number of steps for every size (start-up and warm-up costs are per run, so a fixed sample
      // budget would mix them into the comparison); the "steps" rows vary it on purpose.
      const steps = args.smoke ? 3 : (v.steps ?? Number(args.steps ?? 128));
      const { d, r, bytes } = await ingestOnce(v, steps);
      rows.push([
        `${v.factor} = ${v.value}`, v.ranks, d.sim.moeLayers.length, d.sim.config.num_experts, steps, num(d.countsPerStep),
        rate(r.counts / r.seconds), num((r.cpuSeconds / r.counts) * 1e6, 2), num((r.cpuSeconds / r.reports) * 1e6, 1),
        num((r.cpuSeconds / steps) * 1e3, 1), num(bytes / r.counts, 2),
      ]);
    }
    printTable(
      "Ingest cost vs size (one factor at a time around shape (b); collector process, SQLite, acks included)",
      ["varied", "ranks", "MoE layers", "experts", "steps", "counts/step", "counts/s", "collector CPU us/count", "CPU us/layer report", "CPU ms/step", "bytes/count"],
      rows,
    );
  }
  if (!args["skip-follow"]) {
    const interval = args.smoke ? 200 : Number(args["interval-ms"]);
    const steps = args.smoke ? 4 : Number(args["follow-steps"]);
    const rows: Array<Array<string | number>> = [];
    for (const v of FOLLOW) {
      const { d, r } = await ingestOnce(v, steps, interval);
      const k = Math.max(1, Math.floor(steps / 4));
      // Step 1 also pays for opening the streams: the first steps are counted from step 2.
      const first = median(r.ackLagMs.slice(1, 1 + k));
      const last = median(r.ackLagMs.slice(-k));
      // Growing: the last steps wait clearly longer than the first ones (noise of a few tens of ms aside).
      const follows = last < interval && last <= Math.max(2 * first, interval / 4);
      rows.push([
        v.value, v.ranks, d.sim.moeLayers.length, d.sim.config.num_experts, num(d.countsPerStep), rate(d.countsPerStep / (interval / 1000)),
        num(first), num(last), num(Math.max(...r.ackLagMs)), num((r.cpuSeconds / r.seconds) * 100), follows ? "yes" : "no, the lag grows",
      ]);
      if (!follows) break;
    }
    printTable(
      `Real time: one step every ${interval} ms from every rank, ${steps} steps per run, until the ack lag grows`,
      ["run", "ranks", "MoE layers", "experts", "counts/step", "counts/s needed", "ack lag first steps, ms (median)", "last steps, ms", "max, ms", "collector CPU %", "follows"],
      rows,
    );
  }
});
