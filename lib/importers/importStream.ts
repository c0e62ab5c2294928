/**
 * The only I/O of the importers: drive the pure parsers from a byte stream (a Node Readable is an
 * AsyncIterable of Buffers), reporting progress per chunk. Opening files, writing to the database and
 * throttling progress output are the caller's (the CLI's).
 */
import { InvalidInput } from "../analysis/errors";
import { formatBytes, limit } from "../wire/limits";
import { createLineSplitter } from "./createLineSplitter";
import {
  createTensorBoardCollector,
  type TensorBoardCollectorOptions,
  type TensorBoardImportResult,
  type TensorBoardPoint,
} from "./createTensorBoardCollector";
import { createMegatronLogParser, type MegatronLogParserOptions, type MegatronLogResult } from "./parseMegatronLog";
import {
  createTokensJsonlParser,
  type TokenCountRecord,
  type TokensJsonlOptions,
  type TokensJsonlSummary,
} from "./parseTokensJsonl";

/** ByteSource: what the importers read, e.g. fs.createReadStream(path) or a test's array of chunks. */
export type ByteSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/** ImportProgress: bytes consumed so far (compare with the file size for a percentage). */
export interface ImportProgress {
  bytes: number;
}

/** ImportLimits: bounds on one imported file (defaults: LIMITS.maxImportBytes, maxImportLineBytes, maxImportRecords). */
export interface ImportLimits {
  maxBytes: number;
  maxLineBytes: number;
  maxRecords: number;
}

/** StreamImportOptions: progress callback and limits shared by all importers. */
export interface StreamImportOptions {
  onProgress?: (p: ImportProgress) => void;
  limits?: Partial<ImportLimits>;
}

/**
 * createGuard enforces the import limits as bytes, lines and records go by, so a wrong or hostile file
 * (a binary, a file without newlines, a dump far larger than any run) stops with a message naming the
 * limit instead of exhausting memory or the database.
 */
function createGuard(options: StreamImportOptions, what: string) {
  const l: ImportLimits = {
    maxBytes: options.limits?.maxBytes ?? limit("maxImportBytes"),
    maxLineBytes: options.limits?.maxLineBytes ?? limit("maxImportLineBytes"),
    maxRecords: options.limits?.maxRecords ?? limit("maxImportRecords"),
  };
  let bytes = 0;
  let lines = 0;
  let records = 0;
  return {
    maxLineBytes: l.maxLineBytes,
    chunk(n: number): number {
      bytes += n;
      if (bytes > l.maxBytes) throw new InvalidInput(`the ${what} is larger than ${formatBytes(l.maxBytes)} (maxImportBytes); split it or raise the limit`, "file");
      options.onProgress?.({ bytes });
      return bytes;
    },
    lines(batch: string[]): string[] {
      for (const line of batch) {
        lines++;
        if (line.length > l.maxLineBytes) {
          throw new InvalidInput(`line ${lines} of the ${what} is longer than ${formatBytes(l.maxLineBytes)} (maxImportLineBytes): is it really a ${what}?`, "file");
        }
      }
      return batch;
    },
    records(n: number): void {
      records += n;
      if (records > l.maxRecords) throw new InvalidInput(`the ${what} holds more than ${l.maxRecords} records (maxImportRecords); split it`, "file");
    },
  };
}

function byteLength(chunk: Uint8Array | string): number {
  return typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
}

/** importMegatronLogStream: parse a Megatron stdout log from a byte stream. */
export async function importMegatronLogStream(
  source: ByteSource,
  options: StreamImportOptions & MegatronLogParserOptions = {},
): Promise<MegatronLogResult> {
  const guard = createGuard(options, "Megatron log");
  const splitter = createLineSplitter({ maxLineLength: guard.maxLineBytes });
  const parser = createMegatronLogParser(options);
  for await (const chunk of source) {
    for (const line of guard.lines(splitter.push(chunk))) parser.push(line);
    guard.chunk(byteLength(chunk));
  }
  for (const line of guard.lines(splitter.finish())) parser.push(line);
  return parser.finish();
}

/** importTensorBoardStream: read one TensorBoard event file; points are handed to onPoints as they complete. */
export async function importTensorBoardStream(
  source: ByteSource,
  options: StreamImportOptions & TensorBoardCollectorOptions & { onPoints?: (points: TensorBoardPoint[]) => void | Promise<void> } = {},
): Promise<TensorBoardImportResult> {
  const guard = createGuard(options, "TensorBoard event file");
  const collector = createTensorBoardCollector(options);
  for await (const chunk of source) {
    const data = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    guard.chunk(data.length);
    const points = collector.push(data);
    guard.records(points.length);
    if (points.length && options.onPoints) await options.onPoints(points);
  }
  return collector.finish();
}

/** importTokensJsonlStream: parse a token-count JSONL dump; records are handed to onRecords per chunk. */
export async function importTokensJsonlStream(
  source: ByteSource,
  options: StreamImportOptions & TokensJsonlOptions & { onRecords?: (records: TokenCountRecord[]) => void | Promise<void> } = {},
): Promise<TokensJsonlSummary> {
  const guard = createGuard(options, "token-count JSONL file");
  const splitter = createLineSplitter({ maxLineLength: guard.maxLineBytes });
  const parser = createTokensJsonlParser(options);
  const flush = async (lines: string[]): Promise<void> => {
    const records: TokenCountRecord[] = [];
    for (const line of guard.lines(lines)) {
      const r = parser.push(line);
      if (r) records.push(r);
    }
    guard.records(records.length);
    if (records.length && options.onRecords) await options.onRecords(records);
  };
  for await (const chunk of source) {
    guard.chunk(byteLength(chunk));
    await flush(splitter.push(chunk));
  }
  await flush(splitter.finish());
  return parser.finish();
}
