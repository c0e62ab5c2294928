/**
 * `moe-telemetry import <megatron-log|tensorboard|tokens-jsonl> <path>`: brings a run that was not
 * instrumented into the product (lib/importers/importFile.ts). Records go to --database directly, through
 * the collector's own validation and writer (lib/store/importSink.ts), or with --collector host:port
 * through that collector over gRPC, like live data. Progress goes to stderr, the summary to stdout.
 */
import fs from "node:fs";
import type { RankInfo, RunInfo } from "../lib/analysis/types";
import { TelemetryClient } from "../lib/client/TelemetryClient";
import { importFile, type ImportFileOptions, type ImportKind, type ImportSink, type RankRecords } from "../lib/importers/importFile";
import { openDatabase } from "../lib/store/db";
import { databaseImportSink } from "../lib/store/importSink";
import { limit } from "../lib/wire/limits";

export type { ImportKind } from "../lib/importers/importFile";

/** ImportOptions: the command's options. */
export interface ImportOptions extends Omit<ImportFileOptions, "launchScript" | "onProgress"> {
  collector?: string;
  database: string;
  config?: string;
  json?: boolean;
}

const BYTES_PER_MB = 1024 * 1024;

/** collectorImportSink sends an import through the collector at `address` over gRPC, one stream per rank. */
function collectorImportSink(address: string): ImportSink & { close: () => void } {
  let onRejected: (reason: string) => void = () => undefined;
  const client = new TelemetryClient(address, { clientName: "moe-telemetry-import/0.1", onRejected: (_rank, _seq, r) => onRejected(r.reason) });
  return {
    close: () => client.close(),
    registerRun: (info: RunInfo) => client.registerRun(info),
    async sendRank(runKey: string, rank: RankInfo, records: RankRecords, rejected: (reason: string) => void) {
      onRejected = rejected;
      const stream = client.openStream(runKey, rank);
      const { scalars, samples, reports } = records;
      for (let i = 0; i < scalars.length; i += 2_000) stream.send([], [], 0, scalars.slice(i, i + 2_000));
      for (let i = 0; i < samples.length; i += 500) stream.send([], samples.slice(i, i + 500));
      // Keep each message well under the collector's 4 MiB limit (LIMITS.maxMessageBytes): up to ~10 bytes per count.
      const perBatch = Math.max(1, Math.min(500, Math.floor(limit("maxMessageBytes") / 2 / (10 * Math.max(1, reports[0]?.tokensPerExpert.length ?? 1) + 64))));
      for (let i = 0; i < reports.length; i += perBatch) stream.send(reports.slice(i, i + perBatch), []);
      await stream.close(120_000);
    },
    async finish(runKey: string, step: number, message: string) {
      await client.reportEvent(runKey, 0, "FINISHED", step, message);
    },
  };
}

/** runImport is the `import` command. */
export async function runImport(kind: ImportKind, file: string, o: ImportOptions): Promise<void> {
  const options: ImportFileOptions = {
    ...o,
    ...(o.config ? { launchScript: fs.readFileSync(o.config, "utf8") } : {}),
    ...(o.json
      ? {}
      : {
          onProgress: (bytes: number, total: number) =>
            process.stderr.write(`reading ${total ? Math.round((100 * bytes) / total) : 100}% (${(bytes / BYTES_PER_MB).toFixed(1)} of ${(total / BYTES_PER_MB).toFixed(1)} MB)\n`),
        }),
  };
  let result;
  if (o.collector) {
    const sink = collectorImportSink(o.collector);
    try {
      result = await importFile(kind, file, options, sink);
    } finally {
      sink.close();
    }
  } else {
    const db = await openDatabase(o.database);
    try {
      result = await importFile(kind, file, options, databaseImportSink(db));
    } finally {
      await db.close();
    }
  }
  // Corrupt input: what came before the damage is stored; the exit code says the file was not whole.
  for (const e of result.errors) process.stderr.write(`error: ${e}\n`);
  if (result.errors.length) process.exitCode = 2;
  console.log(o.json ? JSON.stringify(result.summary) : result.text);
}
