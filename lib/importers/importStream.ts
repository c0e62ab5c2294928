/**
 * The only I/O of the importers: drive the pure parsers from a byte stream (a Node Readable is an
 * AsyncIterable of Buffers), reporting progress per chunk. Opening files, writing to the database and
 * throttling progress output are the caller's (the CLI's).
 */
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

/** StreamImportOptions: progress callback shared by all importers. */
export interface StreamImportOptions {
  onProgress?: (p: ImportProgress) => void;
}

function byteLength(chunk: Uint8Array | string): number {
  return typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
}

/** importMegatronLogStream: parse a Megatron stdout log from a byte stream. */
export async function importMegatronLogStream(
  source: ByteSource,
  options: StreamImportOptions & MegatronLogParserOptions = {},
): Promise<MegatronLogResult> {
  const splitter = createLineSplitter();
  const parser = createMegatronLogParser(options);
  let bytes = 0;
  for await (const chunk of source) {
    for (const line of splitter.push(chunk)) parser.push(line);
    bytes += byteLength(chunk);
    options.onProgress?.({ bytes });
  }
  for (const line of splitter.finish()) parser.push(line);
  return parser.finish();
}

/** importTensorBoardStream: read one TensorBoard event file; points are handed to onPoints as they complete. */
export async function importTensorBoardStream(
  source: ByteSource,
  options: StreamImportOptions & TensorBoardCollectorOptions & { onPoints?: (points: TensorBoardPoint[]) => void | Promise<void> } = {},
): Promise<TensorBoardImportResult> {
  const collector = createTensorBoardCollector(options);
  let bytes = 0;
  for await (const chunk of source) {
    const data = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    const points = collector.push(data);
    if (points.length && options.onPoints) await options.onPoints(points);
    bytes += data.length;
    options.onProgress?.({ bytes });
  }
  return collector.finish();
}

/** importTokensJsonlStream: parse a token-count JSONL dump; records are handed to onRecords per chunk. */
export async function importTokensJsonlStream(
  source: ByteSource,
  options: StreamImportOptions & TokensJsonlOptions & { onRecords?: (records: TokenCountRecord[]) => void | Promise<void> } = {},
): Promise<TokensJsonlSummary> {
  const splitter = createLineSplitter();
  const parser = createTokensJsonlParser(options);
  let bytes = 0;
  const flush = async (lines: string[]): Promise<void> => {
    const records: TokenCountRecord[] = [];
    for (const line of lines) {
      const r = parser.push(line);
      if (r) records.push(r);
    }
    if (records.length && options.onRecords) await options.onRecords(records);
  };
  for await (const chunk of source) {
    await flush(splitter.push(chunk));
    bytes += byteLength(chunk);
    options.onProgress?.({ bytes });
  }
  await flush(splitter.finish());
  return parser.finish();
}
