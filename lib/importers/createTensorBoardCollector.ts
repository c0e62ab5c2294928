/**
 * The TensorBoard import pipeline without I/O: TFRecord framing -> Event decoding -> tag classification
 * -> per-series filtering, fed chunk by chunk so a multi-gigabyte event file never sits in memory.
 *
 * A series is emitted only once it has shown a non-zero value (its earlier zeros are released then);
 * series that stay all-zero to the end are dropped, because Megatron writes a value for every layer of
 * every tracked loss, including dense layers and losses that nothing recorded into.
 */
import { classifyScalarTag, decodeTensorBoardEvent, type ScalarTagClass } from "./decodeTensorBoardEvent";
import { createTfRecordReader, type TfRecordReaderOptions, type TfRecordReaderSummary } from "./readTfRecords";

/** TensorBoardPoint: one imported scalar with its meaning. */
export interface TensorBoardPoint {
  tag: string;
  series: ScalarTagClass;
  step: number;
  /** Seconds since the epoch. */
  wallTime: number;
  value: number;
}

/** TensorBoardSeriesStats: per-tag counts for the import summary. */
export interface TensorBoardSeriesStats {
  tag: string;
  series: ScalarTagClass;
  points: number;
  firstStep: number;
  lastStep: number;
}

/** TensorBoardImportResult: what finish() reports. */
export interface TensorBoardImportResult {
  framing: TfRecordReaderSummary;
  events: number;
  fileVersions: string[];
  series: TensorBoardSeriesStats[];
  /** Skipped values and records grouped by reason, with counts. */
  skippedByReason: Record<string, number>;
  droppedAllZero: string[];
  /** Points withheld because their step was not after the last imported step of the tag (restarts). */
  repeatedSteps: number;
}

/** TensorBoardCollector: push file chunks, receive the points they complete, finish once. */
export interface TensorBoardCollector {
  push(chunk: Uint8Array): TensorBoardPoint[];
  finish(): TensorBoardImportResult;
}

/** TensorBoardCollectorOptions: which series to import. */
export interface TensorBoardCollectorOptions extends TfRecordReaderOptions {
  /** Keep tags classified `other` (timers, acceptance rates, ...). Default true. */
  includeOther?: boolean;
}

interface SeriesState {
  nonZero: boolean;
  held: TensorBoardPoint[];
  lastStep: number;
  stats: TensorBoardSeriesStats;
}

/** createTensorBoardCollector: build the streaming TensorBoard scalar importer for one or more event files. */
export function createTensorBoardCollector(options: TensorBoardCollectorOptions = {}): TensorBoardCollector {
  const includeOther = options.includeOther ?? true;
  const reader = createTfRecordReader(options);
  const series = new Map<string, SeriesState>();
  const skippedByReason: Record<string, number> = {};
  const fileVersions: string[] = [];
  let events = 0;
  let repeatedSteps = 0;

  const skip = (reason: string): void => {
    skippedByReason[reason] = (skippedByReason[reason] ?? 0) + 1;
  };

  const accept = (p: TensorBoardPoint, out: TensorBoardPoint[]): void => {
    let s = series.get(p.tag);
    if (!s) {
      s = { nonZero: false, held: [], lastStep: -Infinity, stats: { tag: p.tag, series: p.series, points: 0, firstStep: p.step, lastStep: p.step } };
      series.set(p.tag, s);
    }
    // Keep the first value per step, as the log importer does: a resumed run rewrites earlier steps.
    if (p.step <= s.lastStep) {
      repeatedSteps++;
      return;
    }
    s.lastStep = p.step;
    s.stats.points++;
    s.stats.lastStep = p.step;
    if (s.nonZero) out.push(p);
    else if (p.value === 0) s.held.push(p);
    else {
      s.nonZero = true;
      out.push(...s.held, p);
      s.held = [];
    }
  };

  const push = (chunk: Uint8Array): TensorBoardPoint[] => {
    const out: TensorBoardPoint[] = [];
    for (const record of reader.push(chunk)) {
      const decoded = decodeTensorBoardEvent(record);
      if (!decoded.ok) {
        skip(decoded.reason);
        continue;
      }
      events++;
      const e = decoded.event;
      if (e.fileVersion) fileVersions.push(e.fileVersion);
      for (const v of e.skippedValues) skip(v.reason);
      for (const { tag, value } of e.scalars) {
        const cls = classifyScalarTag(tag);
        if (cls.kind === "vs_samples") {
          skip("`<tag> vs samples` duplicate of a step series");
          continue;
        }
        if (cls.kind === "other" && !includeOther) {
          skip("tag not imported (other)");
          continue;
        }
        if (!Number.isFinite(value)) {
          skip(`non-finite ${tag}`);
          continue;
        }
        accept({ tag, series: cls, step: e.step, wallTime: e.wallTime, value }, out);
      }
    }
    return out;
  };

  const finish = (): TensorBoardImportResult => {
    const framing = reader.finish();
    const droppedAllZero: string[] = [];
    const stats: TensorBoardSeriesStats[] = [];
    for (const [tag, s] of series) {
      if (s.nonZero) stats.push(s.stats);
      else droppedAllZero.push(tag);
    }
    return {
      framing,
      events,
      fileVersions,
      series: stats.sort((a, b) => a.tag.localeCompare(b.tag)),
      skippedByReason,
      droppedAllZero: droppedAllZero.sort(),
      repeatedSteps,
    };
  };

  return { push, finish };
}
