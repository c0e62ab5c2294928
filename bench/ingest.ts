/**
 * Ingest benchmark: each shape's simulated run streamed through the real TypeScript client (one gRPC
 * stream per rank, one batch per rank per step, bounded backlog) into a real `moe-telemetry collector`
 * process on a fresh SQLite file, durable acks included, as fast as it goes; next to the two limits
 * measured on the same data in the same run: (a) grpc-js with no persistence, (b) the same rows written
 * by a raw better-sqlite3 transaction. Target: the collector at >= half the lower limit.
 *
 *   npm run bench:ingest -- [--shapes a,b,b1,c] [--steps N | --samples 4000000] [--no-limits] [--smoke]
 *                           [--steps-per-batch 1] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
 *   npm run bench:limits -- ...      (the limits alone)
 *
 * --steps-per-batch K sends K steps per batch to the collector and to limit (a) alike (default 1, what the Python
 * client sends), and limit (b) writes K steps per transaction.
 *
 * The data is generated before the clock starts. Numbers vary with machine load: compare runs made together.
 */
import { benchArgs, runBench, stepsFor } from "./lib/cli";
import { grpcLimit } from "./lib/limits";
import { databaseBytes, startProduct, streamDataset, type IngestResult } from "./lib/product";
import { rawSqliteWrite } from "./lib/rawSqlite";
import { makeDataset, parseShapes } from "./lib/shapes";
import { num, printTable, rate, ratio } from "./lib/table";

const args = benchArgs({
  "no-limits": { type: "boolean", default: false },
  "limits-only": { type: "boolean", default: false },
  // A PostgreSQL server URL: the collector writes to a fresh database there instead of SQLite.
  postgres: { type: "string" },
  "steps-per-batch": { type: "string", default: "1" },
});
const stepsPerBatch = Number(args["steps-per-batch"]);

async function collectorIngest(d: ReturnType<typeof makeDataset>): Promise<{ r: IngestResult; bytesPerCount: number }> {
  const product = await startProduct("collector", { postgres: args.postgres });
  try {
    const r = await streamDataset(product.grpc, d, { runKey: `ingest-${d.shape.name}`, receiverPid: product.proc.pid, stepsPerBatch });
    await product.stop();
    return { r, bytesPerCount: databaseBytes(product) / r.counts };
  } finally {
    await product.stop();
  }
}

runBench(args["limits-only"] ? "bench:limits" : "bench:ingest", async () => {
  const rows: Array<Array<string | number>> = [];
  for (const shape of parseShapes(args.shapes ?? (args.smoke ? "a" : "a,b,b1,c"))) {
    const steps = stepsFor(shape, args);
    const d = makeDataset(shape, steps);
    const mine = args["limits-only"] ? null : await collectorIngest(d);
    const grpc = args["no-limits"] ? null : await grpcLimit(d, stepsPerBatch);
    const sqlite = args["no-limits"] ? null : rawSqliteWrite(d, stepsPerBatch);
    const grpcRate = grpc ? grpc.counts / grpc.seconds : Number.NaN;
    const sqliteRate = sqlite ? sqlite.counts / sqlite.seconds : Number.NaN;
    const lower = Math.min(grpcRate, sqliteRate);
    const myRate = mine ? mine.r.counts / mine.r.seconds : Number.NaN;
    // The same comparison per CPU-second of the receiving process: steadier than wall rates on a loaded machine.
    const lowerPerCpu = Math.min(grpc ? grpc.counts / grpc.cpuSeconds : Number.NaN, sqlite ? sqlite.counts / sqlite.cpuSeconds : Number.NaN);
    const myPerCpu = mine ? mine.r.counts / mine.r.cpuSeconds : Number.NaN;
    rows.push([
      shape.label, steps, num(d.countsPerStep * steps),
      mine ? `${rate(myRate)} (${rate(mine.r.reports / mine.r.seconds)} reports/s)` : "-",
      mine ? rate(myPerCpu) : "-",
      grpc ? `${rate(grpcRate)} (${rate(grpc.counts / grpc.cpuSeconds)}/CPU-s)` : "-",
      sqlite ? `${rate(sqliteRate)} (${rate(sqlite.counts / sqlite.cpuSeconds)}/CPU-s)` : "-",
      `${ratio(myRate, lower)} (per CPU-s ${ratio(myPerCpu, lowerPerCpu)})`,
      mine ? num(mine.bytesPerCount, 2) : "-",
      sqlite ? num(sqlite.fileBytes / sqlite.counts, 2) : "-",
    ]);
  }
  printTable(
    `Ingest, 64 ranks, ${stepsPerBatch === 1 ? "one step" : `${stepsPerBatch} steps`} per batch, counts per second (acks included for the collector and the gRPC limit), collector on ${args.postgres ? "PostgreSQL" : "SQLite"}`,
    ["shape", "steps", "counts", "collector", "per collector CPU-s", "limit (a) grpc-js, no persistence", "limit (b) raw better-sqlite3", "collector / lower limit (target >= 0.5x)", "database bytes/count (collector)", "bytes/count (raw rows)"],
    rows,
  );
});
