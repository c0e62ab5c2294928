/**
 * The collector's write buffer: batches wait here until a flush makes them durable. A flush runs when
 * the buffer holds `maxRecords` records or `intervalMs` after the first waiting batch, never two at
 * once, and writes everything waiting in one transaction. What arrives during a flush is written right
 * after it (group commit): under load the flushes run back to back and grow with the load, instead of
 * each batch also waiting out a fresh interval. `enqueue` resolves only after the commit, so
 * whoever acks on it acks only durable data.
 */
import type { PendingBatch } from "../lib/store/ingestStore";

/** IngestBufferOptions: flush policy and the write function (injected so tests can swap it). */
export interface IngestBufferOptions {
  write: (batches: PendingBatch[], nowMs: number) => Promise<void>;
  intervalMs?: number;
  maxRecords?: number;
  /** Above this many waiting records `isFull()` is true: the collector stops reading streams. */
  highWaterRecords?: number;
  now?: () => number;
  onError?: (err: unknown, batches: number) => void;
}

interface Waiting {
  batch: PendingBatch;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** IngestBuffer batches writes and resolves each batch once it is committed. */
export class IngestBuffer {
  private waiting: Waiting[] = [];
  private records = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private readonly intervalMs: number;
  private readonly maxRecords: number;
  private readonly highWater: number;
  private readonly now: () => number;
  private drainListeners: Array<() => void> = [];

  constructor(private readonly opts: IngestBufferOptions) {
    this.intervalMs = opts.intervalMs ?? 50;
    this.maxRecords = opts.maxRecords ?? 20_000;
    this.highWater = opts.highWaterRecords ?? 200_000;
    this.now = opts.now ?? Date.now;
  }

  /** enqueue adds a batch; the promise resolves when it is durable and rejects if its flush failed. */
  enqueue(batch: PendingBatch): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the collector is shutting down"));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      this.records += batch.layers.length + batch.steps.length + 1;
      if (this.records >= this.maxRecords) void this.flush();
      else this.schedule();
    });
  }

  /** isFull tells readers to pause until `onDrain` fires. */
  isFull(): boolean {
    return this.records >= this.highWater;
  }

  /** onDrain calls `fn` once after the next flush completes. */
  onDrain(fn: () => void): void {
    this.drainListeners.push(fn);
  }

  /** pendingRecords is the number of records waiting to be written. */
  pendingRecords(): number {
    return this.records;
  }

  private schedule(delayMs = this.intervalMs): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delayMs);
  }

  /** flush writes everything waiting now; concurrent callers share the running flush, then run again. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    if (this.waiting.length === 0) return;
    const taken = this.waiting;
    this.waiting = [];
    this.records = 0;
    this.flushing = (async () => {
      try {
        await this.opts.write(taken.map((w) => w.batch), this.now());
        for (const w of taken) w.resolve();
      } catch (err) {
        this.opts.onError?.(err, taken.length);
        for (const w of taken) w.reject(err);
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
      const listeners = this.drainListeners;
      this.drainListeners = [];
      for (const fn of listeners) fn();
      // Batches that arrived during the write have waited one write already: write them next.
      if (this.waiting.length > 0) this.schedule(0);
    }
  }

  /** close stops accepting batches and flushes what is waiting. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
