/**
 * bench:floor: how many bytes the expert counts alone need, per count, under a few encodings of the same data the
 * other benches send (bench/lib/shapes.ts). It times nothing: it tells whether a storage target is reachable by
 * re-encoding the counts, before anyone rebuilds the storage layout for it.
 *
 *   npm run bench:floor -- [--shapes a,b,b1,c] [--steps N | --samples 4000000] [--smoke]
 *
 * Columns (bytes per count):
 * - packCounts per report: what a LayerReport row holds today (lib/store/packCounts.ts, one vector per rank,
 *   layer and step), without the row's key and other columns.
 * - deflate (level 9) of all counts as little-endian int32, in series order (rank, layer, expert; then steps).
 * - deflate (level 9) of each series' step-to-step differences, zigzag varints: what a columnar block layout
 *   with a general-purpose compressor would store.
 * - order-0 entropy of those differences: the floor for any coder that codes each difference on its own.
 * - order-0 entropy of each count's difference from its report's mean: the same floor for a per-report layout.
 */
import { deflateSync } from "node:zlib";
import { packCounts, writeVarint, zigzag } from "../lib/store/packCounts";
import { benchArgs, runBench, stepsFor } from "./lib/cli";
import { makeDataset, parseShapes } from "./lib/shapes";
import { num, printTable } from "./lib/table";

const args = benchArgs({});

runBench("bench:floor", async () => {
  const rows: string[][] = [];
  for (const shape of parseShapes(args.shapes ?? "a,b,b1,c")) {
    const d = makeDataset(shape, stepsFor(shape, args));
    const series = new Map<string, number[]>();
    const fromMean = new Map<number, number>();
    let packed = 0;
    let counts = 0;
    for (const step of d.steps) {
      for (const [rank, reports] of step.layers) {
        for (const r of reports) {
          const v = r.tokensPerExpert;
          packed += packCounts(v).length;
          const mean = Math.floor(v.reduce((a, b) => a + b, 0) / v.length);
          v.forEach((c, e) => {
            const key = `${rank}/${r.layer}/${e}`;
            let s = series.get(key);
            if (!s) series.set(key, (s = []));
            s.push(c);
            bump(fromMean, c - mean);
          });
          counts += v.length;
        }
      }
    }
    const raw = Buffer.alloc(counts * 4);
    // A varint of a safe integer takes at most 8 bytes.
    const varints = Buffer.alloc(counts * 8);
    let varintEnd = 0;
    const stepDeltas = new Map<number, number>();
    let at = 0;
    for (const s of series.values()) {
      let prev = 0;
      for (const c of s) {
        raw.writeInt32LE(c, at);
        at += 4;
        bump(stepDeltas, c - prev);
        varintEnd = writeVarint(varints, varintEnd, zigzag(c - prev));
        prev = c;
      }
    }
    const per = (bytes: number) => num(bytes / counts, 2);
    rows.push([
      shape.label, num(d.steps.length), num(counts), per(packed),
      per(deflateSync(raw, { level: 9 }).length), per(deflateSync(varints.subarray(0, varintEnd), { level: 9 }).length),
      per(entropyBits(stepDeltas) / 8), per(entropyBits(fromMean) / 8),
    ]);
  }
  printTable("Bytes per count the expert counts alone need (no keys, losses, memory or aggregates)", [
    "shape", "steps", "counts", "packCounts per report", "int32, deflate", "step deltas, deflate",
    "step deltas, order-0 entropy", "deltas from the report mean, order-0 entropy",
  ], rows);
});

function bump(histogram: Map<number, number>, value: number): void {
  histogram.set(value, (histogram.get(value) ?? 0) + 1);
}

/** entropyBits: total bits an ideal order-0 coder needs for the values counted in `histogram`. */
function entropyBits(histogram: Map<number, number>): number {
  let total = 0;
  for (const n of histogram.values()) total += n;
  let bits = 0;
  for (const n of histogram.values()) bits -= n * Math.log2(n / total);
  return bits;
}
