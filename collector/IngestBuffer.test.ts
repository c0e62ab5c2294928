import { describe, expect, it } from "vitest";
import { IngestBuffer } from "./IngestBuffer";
import type { PendingBatch } from "../lib/store/ingestStore";

const batch = (seq: number, layers = 1): PendingBatch =>
  ({ run: { id: "r" }, rank: 0, seq, layers: Array(layers).fill({}), steps: [], droppedBatches: 0 }) as unknown as PendingBatch;

describe("IngestBuffer", () => {
  it("writes everything waiting in one call and resolves each batch only after the write", async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const buf = new IngestBuffer({ intervalMs: 5, write: async (b) => { writes.push(b.map((x) => x.seq)); await gate; } });
    const done: number[] = [];
    const p = [1, 2, 3].map((s) => buf.enqueue(batch(s)).then(() => done.push(s)));
    await new Promise((r) => setTimeout(r, 30));
    expect(writes).toEqual([[1, 2, 3]]);
    expect(done).toEqual([]); // not durable yet: nothing may be acked
    release();
    await Promise.all(p);
    expect(done).toEqual([1, 2, 3]);
  });

  it("flushes at maxRecords without waiting for the interval", async () => {
    const writes: number[][] = [];
    const buf = new IngestBuffer({ intervalMs: 60_000, maxRecords: 4, write: async (b) => void writes.push(b.map((x) => x.seq)) });
    await buf.enqueue(batch(1, 3)); // 3 layers + 1 batch record = 4 records
    expect(writes).toEqual([[1]]);
  });

  it("rejects the batches of a failed write and writes later ones normally", async () => {
    let fail = true;
    const errors: unknown[] = [];
    const buf = new IngestBuffer({
      intervalMs: 1,
      write: async () => {
        if (fail) throw new Error("disk full");
      },
      onError: (e) => errors.push(e),
    });
    await expect(buf.enqueue(batch(1))).rejects.toThrow("disk full");
    fail = false;
    await expect(buf.enqueue(batch(2))).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it("never runs two writes at once", async () => {
    let running = 0;
    let maxRunning = 0;
    const buf = new IngestBuffer({
      intervalMs: 1,
      maxRecords: 2,
      write: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 10));
        running--;
      },
    });
    await Promise.all(Array.from({ length: 20 }, (_, i) => buf.enqueue(batch(i))));
    expect(maxRunning).toBe(1);
  });

  it("writes what arrived during a write right after it, without waiting out another interval", async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // maxRecords 2 starts the first write at once; the interval is long enough that only group commit can run the second.
    const buf = new IngestBuffer({
      intervalMs: 60_000,
      maxRecords: 2,
      write: async (b) => {
        writes.push(b.map((x) => x.seq));
        if (writes.length === 1) await gate;
      },
    });
    const first = buf.enqueue(batch(1));
    const second = buf.enqueue(batch(2, 0)); // 1 record: below maxRecords on its own
    release();
    await first;
    await second;
    expect(writes).toEqual([[1], [2]]);
  });

  it("refuses batches after close, having flushed what was waiting", async () => {
    const writes: number[][] = [];
    const buf = new IngestBuffer({ intervalMs: 60_000, write: async (b) => void writes.push(b.map((x) => x.seq)) });
    const p = buf.enqueue(batch(1));
    await buf.close();
    await p;
    expect(writes).toEqual([[1]]);
    await expect(buf.enqueue(batch(2))).rejects.toThrow(/shutting down/);
  });
});
