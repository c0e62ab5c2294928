/**
 * The two ingest limits the issue compares the collector with, measured on the same dataset in the same
 * run: (a) the same messages over grpc-js to a server that stores nothing (bench/lib/nullCollector.ts),
 * driven by the same client code; (b) the same rows written by a raw better-sqlite3 transaction.
 */
import { startTsProcess, waitForMatch } from "./proc";
import { streamDataset, type IngestResult } from "./product";
import { rawSqliteWrite, type RawWriteResult } from "./rawSqlite";
import type { Dataset } from "./shapes";

/** Limits: both limits for one dataset. */
export interface Limits {
  grpc: IngestResult;
  sqlite: RawWriteResult;
}

/** grpcLimit streams the dataset to a fresh null collector process (the same batches as the collector gets) and measures it. */
export async function grpcLimit(d: Dataset, stepsPerBatch = 1): Promise<IngestResult> {
  const proc = startTsProcess("bench/lib/nullCollector.ts", []);
  try {
    const m = await waitForMatch(proc, /null collector listening on (\S+)/, 60_000);
    return await streamDataset(m[1], d, { runKey: `limit-${d.shape.name}`, receiverPid: proc.pid, stepsPerBatch });
  } finally {
    await proc.stop(5_000);
  }
}

/** measureLimits measures both limits for a dataset. */
export async function measureLimits(d: Dataset): Promise<Limits> {
  const grpc = await grpcLimit(d);
  const sqlite = rawSqliteWrite(d);
  return { grpc, sqlite };
}
