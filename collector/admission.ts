/**
 * Admission control: how much the collector holds in memory at once, and what it tells senders when it
 * is full. Every accepted batch waits in memory until its flush commits; under a burst (a whole cluster
 * restarting, a slow disk) that wait grows without bound unless something says "not now". This module
 * counts the estimated bytes of accepted-but-not-yet-durable batches and:
 * - unary Write above the bound: RESOURCE_EXHAUSTED with a retry hint (trailers `retry-after-ms` and gRPC's
 *   standard `grpc-retry-pushback-ms`), nothing of the batch stored, so the client simply resends later;
 * - streams above the bound or above their share: stop reading (HTTP/2 flow control pushes back to the
 *   client), and a stream that stays paused over its share for `stallMs` ends with RESOURCE_EXHAUSTED + hint;
 * - too many streams, or too many for one project (token's project): a new stream is refused with
 *   RESOURCE_EXHAUSTED + hint, so one token cannot take every slot;
 * - a stream that has not sent its RankHello within `helloTimeoutMs` ends with DEADLINE_EXCEEDED (a slot
 *   is only held by a stream that says which rank it is);
 * - a stream that sends nothing for `streamIdleMs` ends with DEADLINE_EXCEEDED;
 * - a stream whose client does not read its acks ends with RESOURCE_EXHAUSTED once `maxOutboundMessages`
 *   replies wait in its send queue (the collector never queues replies without bound).
 * Settings come from options, then COLLECTOR_* environment variables, then the defaults below.
 */
import * as grpc from "@grpc/grpc-js";
import { Overloaded, StreamIdle } from "../lib/analysis/errors";
import { limit } from "../lib/wire/limits";
import type { Batch__Output } from "../generated/proto/moe/telemetry/v1/Batch";

/** AdmissionSettings: the overload bounds of one collector process. */
export interface AdmissionSettings {
  /** Largest gRPC message decoded, bytes (LIMITS.maxMessageBytes). */
  maxMessageBytes: number;
  /** Estimated bytes of accepted batches waiting for their flush, across all callers. */
  maxPendingBytes: number;
  /** Resident memory of the collector process the MemoryGovernor keeps it under, bytes. */
  maxRssBytes: number;
  /** Above this event-loop delay, ms, unary Writes are refused before decoding (EventLoopLag.ts). */
  maxLoopDelayMs: number;
  /** New runs one project (ingest token's project) may register per minute. */
  maxRunsPerMinute: number;
  /** Open streams at once, across all connections. */
  maxStreams: number;
  /** Open streams at once of one project (ingest token's project); default half of maxStreams. */
  maxStreamsPerProject: number;
  /** A stream must send its RankHello within this long or is closed (DEADLINE_EXCEEDED). */
  helloTimeoutMs: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: streams one connection may open at once. */
  maxStreamsPerConnection: number;
  /** A stream that sends nothing for this long is closed (DEADLINE_EXCEEDED). */
  streamIdleMs: number;
  /** A stream paused over its share for this long is ended (RESOURCE_EXHAUSTED). */
  stallMs: number;
  /** Replies (acks, results) queued for a client that does not read before its stream is ended. */
  maxOutboundMessages: number;
  /** Base of the retry hint sent with RESOURCE_EXHAUSTED, ms. */
  retryAfterMs: number;
}

/** DEFAULT_ADMISSION: the documented defaults (README "Limits and overload"). */
export const DEFAULT_ADMISSION: AdmissionSettings = {
  maxMessageBytes: limit("maxMessageBytes"),
  maxPendingBytes: 64 * 1024 * 1024,
  maxRssBytes: 640 * 1024 * 1024,
  maxLoopDelayMs: 1_000,
  maxRunsPerMinute: 60,
  maxStreams: 4_096,
  maxStreamsPerProject: 2_048,
  helloTimeoutMs: 10_000,
  maxStreamsPerConnection: 256,
  streamIdleMs: 10 * 60_000,
  stallMs: 30_000,
  maxOutboundMessages: 4_096,
  retryAfterMs: 250,
};

const ENV_NAMES: Record<keyof AdmissionSettings, string> = {
  maxMessageBytes: "COLLECTOR_MAX_MESSAGE_BYTES",
  maxPendingBytes: "COLLECTOR_MAX_PENDING_BYTES",
  maxRssBytes: "COLLECTOR_MAX_RSS_BYTES",
  maxLoopDelayMs: "COLLECTOR_MAX_LOOP_DELAY_MS",
  maxRunsPerMinute: "COLLECTOR_MAX_RUNS_PER_MINUTE",
  maxStreams: "COLLECTOR_MAX_STREAMS",
  maxStreamsPerProject: "COLLECTOR_MAX_STREAMS_PER_PROJECT",
  helloTimeoutMs: "COLLECTOR_HELLO_TIMEOUT_MS",
  maxStreamsPerConnection: "COLLECTOR_MAX_STREAMS_PER_CONNECTION",
  streamIdleMs: "COLLECTOR_STREAM_IDLE_MS",
  stallMs: "COLLECTOR_STALL_MS",
  maxOutboundMessages: "COLLECTOR_MAX_OUTBOUND_MESSAGES",
  retryAfterMs: "COLLECTOR_RETRY_AFTER_MS",
};

/** admissionSettings merges explicit options over COLLECTOR_* environment variables over the defaults. */
export function admissionSettings(
  opts: Partial<AdmissionSettings> = {},
  env: Record<string, string | undefined> = process.env,
): AdmissionSettings {
  const out = { ...DEFAULT_ADMISSION };
  const set = new Set<keyof AdmissionSettings>();
  for (const key of Object.keys(ENV_NAMES) as Array<keyof AdmissionSettings>) {
    const raw = env[ENV_NAMES[key]];
    if (raw !== undefined && raw !== "") {
      const v = Number(raw);
      if (!Number.isSafeInteger(v) || v < 1) throw new Error(`invalid environment: ${ENV_NAMES[key]} must be a positive integer, got "${raw}"`);
      out[key] = v;
      set.add(key);
    }
    const given = opts[key];
    if (given !== undefined) {
      out[key] = given;
      set.add(key);
    }
  }
  // Unless set, a project's share follows COLLECTOR_MAX_STREAMS: half of it, so another project always finds room.
  if (!set.has("maxStreamsPerProject")) out.maxStreamsPerProject = Math.max(1, Math.floor(out.maxStreams / 2));
  return out;
}


/**
 * RunRate limits how many new runs each project registers per minute (sliding window): a token that registers
 * thousands of runs fills the runs list and slows every dashboard query. Re-registering an existing run is
 * not counted. Projects are forgotten once their window is empty, so memory follows the active projects.
 */
export class RunRate {
  private readonly created = new Map<string, number[]>();

  constructor(
    private readonly maxPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(projectId: string): number[] {
    const since = this.now() - 60_000;
    const list = (this.created.get(projectId) ?? []).filter((t) => t > since);
    if (list.length > 0) this.created.set(projectId, list);
    else this.created.delete(projectId);
    return list;
  }

  /** waitMs: 0 when `projectId` may register another run now, else how long until it may. */
  waitMs(projectId: string): number {
    const list = this.recent(projectId);
    if (list.length < this.maxPerMinute) return 0;
    return Math.max(1, list[list.length - this.maxPerMinute] + 60_000 - this.now());
  }

  /** count records one new run of `projectId`. */
  count(projectId: string): void {
    this.created.set(projectId, [...this.recent(projectId), this.now()]);
  }
}

/**
 * StreamSlots counts open streams per project so that one project (one ingest token) cannot hold every
 * slot of COLLECTOR_MAX_STREAMS. Streams without a project (ingest auth off) count only in the total.
 */
export class StreamSlots<K> {
  private readonly byProject = new Map<string, number>();
  private readonly projectOf = new Map<K, string>();

  constructor(private readonly maxPerProject: number) {}

  /** claim counts `key` against `projectId`, or returns false (nothing counted) when the project is at its share. */
  claim(key: K, projectId: string): boolean {
    if (this.projectOf.has(key)) return true;
    const n = this.byProject.get(projectId) ?? 0;
    if (n >= this.maxPerProject) return false;
    this.byProject.set(projectId, n + 1);
    this.projectOf.set(key, projectId);
    return true;
  }

  /** release uncounts `key` (idempotent: every ending path of a stream may call it). */
  release(key: K): void {
    const p = this.projectOf.get(key);
    if (p === undefined) return;
    this.projectOf.delete(key);
    const n = (this.byProject.get(p) ?? 1) - 1;
    if (n > 0) this.byProject.set(p, n);
    else this.byProject.delete(p);
  }

  /** openOf is the number of streams `projectId` holds. */
  openOf(projectId: string): number {
    return this.byProject.get(projectId) ?? 0;
  }
}

/** overloadStatus maps Overloaded and StreamIdle to their gRPC status with the retry trailers; null for anything else. */
export function overloadStatus(err: unknown): Partial<grpc.StatusObject> | null {
  if (err instanceof Overloaded) {
    const metadata = new grpc.Metadata();
    metadata.set("retry-after-ms", String(err.retryAfterMs));
    metadata.set("grpc-retry-pushback-ms", String(err.retryAfterMs));
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message, metadata };
  }
  if (err instanceof StreamIdle) return { code: grpc.status.DEADLINE_EXCEEDED, details: err.message };
  return null;
}

// Decoded JavaScript objects cost far more than their wire bytes: a record object with its keys, and a
// double (8 bytes) per array element. These estimates err high so the bound holds. Measured with V8's heap
// (decoded message plus its validated copy, both alive while a batch waits): ~650 bytes per layer report with
// 8 experts, ~520 + 6.6 per count with 256; the estimate is 640 + 16 per count.
const RECORD_OVERHEAD_BYTES = 640;
const NUMBER_BYTES = 16;
/** A varint count is 1-2 bytes on the wire and NUMBER_BYTES in the estimate; small reports decode to 6-19x their wire size. */
const WIRE_TO_MEMORY = 8;

/** estimateBatchBytes estimates the memory a decoded batch occupies until it is durable. */
export function estimateBatchBytes(batch: Batch__Output | null | undefined): number {
  if (!batch) return 0;
  let n = RECORD_OVERHEAD_BYTES;
  for (const l of batch.layers) {
    n += RECORD_OVERHEAD_BYTES + NUMBER_BYTES * (l.tokens_per_expert.length + l.tokens_per_expert_before_drop.length + l.received_per_local_expert.length);
  }
  n += batch.steps.length * RECORD_OVERHEAD_BYTES;
  for (const s of batch.scalars) n += RECORD_OVERHEAD_BYTES + 2 * s.name.length;
  return n;
}

/** Ticket: bytes held for one accepted batch; release it once the batch is durable (or failed). */
export interface Ticket {
  readonly bytes: number;
  release(): void;
}

/** Admission counts the bytes held for accepted batches and says when to refuse or pause. */
export class Admission {
  private pending = 0;
  private listeners: Array<() => void> = [];
  private refused = 0;

  /** `pressure` is the MemoryGovernor's verdict on the process's real memory; while it is true the collector is full. */
  constructor(
    readonly settings: AdmissionSettings,
    private readonly memoryPressure: () => boolean = () => false,
    private readonly behind: () => boolean = () => false,
  ) {}

  /**
   * pressure: the process's memory is high and something is held. With nothing held the collector always takes
   * the next batch, so memory that does not shrink (a heap that keeps its pages) can slow ingest but never stop it.
   */
  private pressure(): boolean {
    return this.pending > 0 && this.memoryPressure();
  }

  /** pendingBytes is the estimated memory held by accepted batches not yet durable. */
  get pendingBytes(): number {
    return this.pending;
  }

  /** refusedCalls counts RESOURCE_EXHAUSTED answers since start. */
  get refusedCalls(): number {
    return this.refused;
  }

  /** over is true while held bytes are at or above the bound: readers pause. */
  over(): boolean {
    return this.pending >= this.settings.maxPendingBytes || this.pressure();
  }

  /**
   * admit holds `bytes` for a unary call, or throws Overloaded when that would pass the bound. A batch
   * larger than the whole bound is still admitted when nothing else is held, so progress is always possible.
   */
  admit(bytes: number): Ticket {
    if (this.pressure() || (this.pending > 0 && this.pending + bytes > this.settings.maxPendingBytes)) {
      this.refused++;
      throw this.full();
    }
    return this.hold(bytes);
  }

  /**
   * refuseBeforeDecode refuses a unary Write from its wire size alone while the collector is over its
   * bound (a decoded batch occupies several times its wire size, WIRE_TO_MEMORY).
   */
  refuseBeforeDecode(method: string, wireBytes: number): Overloaded | null {
    if (method !== "Write") return null;
    if (this.behind()) {
      this.refused++;
      return new Overloaded(
        `collector overloaded: it is more than ${this.settings.maxLoopDelayMs} ms behind with the requests it has (COLLECTOR_MAX_LOOP_DELAY_MS); nothing of this batch was stored, retry after ${this.retryAfterMs()} ms`,
        this.retryAfterMs(),
      );
    }
    if (!this.pressure() && (this.pending === 0 || this.pending + wireBytes * WIRE_TO_MEMORY <= this.settings.maxPendingBytes)) return null;
    this.refused++;
    return this.full();
  }

  private full(): Overloaded {
    if (this.pressure()) {
      return new Overloaded(
        `collector overloaded: its memory is near its bound (COLLECTOR_MAX_RSS_BYTES ${this.mib(this.settings.maxRssBytes)} MiB); nothing of this batch was stored, retry after ${this.retryAfterMs()} ms`,
        this.retryAfterMs(),
      );
    }
    return new Overloaded(
      `collector overloaded: ${this.mib(this.pending)} MiB of accepted batches are waiting to be written (bound ${this.mib(this.settings.maxPendingBytes)} MiB); nothing of this batch was stored, retry after ${this.retryAfterMs()} ms`,
      this.retryAfterMs(),
    );
  }

  /** hold holds `bytes` unconditionally (a stream's batch already read; the stream pauses instead). */
  hold(bytes: number): Ticket {
    this.pending += bytes;
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        this.pending -= bytes;
        this.notify();
      },
    };
  }

  /** notify wakes paused readers once held bytes are under half the bound and memory is not under pressure. */
  notify(): void {
    if (this.listeners.length === 0 || this.pending >= this.settings.maxPendingBytes / 2 || this.pressure()) return;
    const fns = this.listeners;
    this.listeners = [];
    for (const fn of fns) fn();
  }

  /** whenBelow calls `fn` once when held bytes fall under half the bound (hysteresis: no pause/resume flapping). */
  whenBelow(fn: () => void): void {
    if (this.pending < this.settings.maxPendingBytes / 2 && !this.pressure()) fn();
    else this.listeners.push(fn);
  }

  /** shareOf is one stream's fair share of the bound when `streams` streams are open. */
  shareOf(streams: number): number {
    return this.settings.maxPendingBytes / Math.max(1, streams);
  }

  /** refuse builds an Overloaded for a stream or call refused for another reason (too many streams, stalled). */
  refuse(message: string): Overloaded {
    this.refused++;
    return new Overloaded(`${message}; retry after ${this.retryAfterMs()} ms`, this.retryAfterMs());
  }

  /** retryAfterMs grows with how full the collector is, so a busier collector spreads retries wider. */
  retryAfterMs(): number {
    const fullness = this.pressure() || this.behind() ? 4 : Math.min(4, this.pending / this.settings.maxPendingBytes);
    return Math.round(this.settings.retryAfterMs * (1 + fullness));
  }

  private mib(n: number): string {
    return (n / (1024 * 1024)).toFixed(1);
  }
}
