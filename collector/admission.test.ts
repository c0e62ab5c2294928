import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { Admission, DEFAULT_ADMISSION, admissionSettings, estimateBatchBytes, overloadStatus } from "./admission";
import { Overloaded } from "../lib/analysis/errors";
import { guardUnary, malformedReason, tolerantService } from "./decodeGuard";
import { loadTelemetryProto } from "../lib/wire/loadTelemetryProto";

describe("admissionSettings", () => {
  it("takes options over COLLECTOR_* variables over the defaults, and names a bad variable", () => {
    expect(admissionSettings({}, {})).toEqual(DEFAULT_ADMISSION);
    expect(admissionSettings({}, { COLLECTOR_MAX_PENDING_BYTES: "1024" }).maxPendingBytes).toBe(1024);
    expect(admissionSettings({ maxPendingBytes: 7 }, { COLLECTOR_MAX_PENDING_BYTES: "1024" }).maxPendingBytes).toBe(7);
    expect(() => admissionSettings({}, { COLLECTOR_STREAM_IDLE_MS: "soon" })).toThrow(/COLLECTOR_STREAM_IDLE_MS must be a positive integer, got "soon"/);
  });
});

describe("Admission", () => {
  it("refuses a unary batch that would pass the bound, with a retry hint, and admits again once bytes are released", () => {
    const a = new Admission({ ...DEFAULT_ADMISSION, maxPendingBytes: 1_000, retryAfterMs: 100 });
    const first = a.admit(800);
    let refused: unknown;
    try {
      a.admit(300);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(Overloaded);
    expect((refused as Overloaded).retryAfterMs).toBeGreaterThanOrEqual(100);
    const status = overloadStatus(refused)!;
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/nothing of this batch was stored, retry after \d+ ms/);
    expect(status.metadata!.get("retry-after-ms")).toEqual([String((refused as Overloaded).retryAfterMs)]);
    expect(status.metadata!.get("grpc-retry-pushback-ms")).toEqual([String((refused as Overloaded).retryAfterMs)]);
    first.release();
    first.release(); // idempotent
    expect(a.pendingBytes).toBe(0);
    a.admit(300).release();
    expect(a.refusedCalls).toBe(1);
  });

  it("admits a batch larger than the bound when nothing else is held (progress is always possible)", () => {
    const a = new Admission({ ...DEFAULT_ADMISSION, maxPendingBytes: 100 });
    expect(a.admit(500).bytes).toBe(500);
    expect(a.over()).toBe(true);
  });

  it("wakes paused readers only below half the bound (no flapping)", () => {
    const a = new Admission({ ...DEFAULT_ADMISSION, maxPendingBytes: 1_000 });
    const t1 = a.hold(600);
    const t2 = a.hold(500);
    let woken = 0;
    a.whenBelow(() => woken++);
    t2.release(); // 600 held: not yet below 500
    expect(woken).toBe(0);
    t1.release();
    expect(woken).toBe(1);
  });

  it("estimates a batch from its expert vectors", () => {
    const layer = { tokens_per_expert: new Array(100).fill(1), tokens_per_expert_before_drop: [], received_per_local_expert: [] };
    const small = estimateBatchBytes({ seq: 1, layers: [], steps: [], scalars: [], dropped_batches: 0 });
    const big = estimateBatchBytes({ seq: 1, layers: [layer, layer] as never, steps: [], scalars: [], dropped_batches: 0 });
    expect(big - small).toBeGreaterThanOrEqual(2 * 100 * 8);
    expect(estimateBatchBytes(null)).toBe(0);
  });
});

describe("decodeGuard", () => {
  const svc = tolerantService(loadTelemetryProto().Telemetry.service);
  it("turns an undecodable request into a marker instead of an exception", () => {
    const bad = svc.Write.requestDeserialize(Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]));
    expect(malformedReason(bad)).toMatch(/the Write request is not valid protobuf \(7 bytes\)/);
    const good = svc.Write.requestDeserialize(svc.Write.requestSerialize({ batch: { seq: 3 } }));
    expect(malformedReason(good)).toBeNull();
  });
  it("answers a malformed unary request with INVALID_ARGUMENT without calling the handler", () => {
    let called = 0;
    const guarded = guardUnary({ Write: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => (called++, cb(null, {})) });
    let got: Partial<grpc.StatusObject> | null = null;
    const request = svc.Write.requestDeserialize(Buffer.from([0xff]));
    guarded.Write({ request } as never, ((err: Partial<grpc.StatusObject> | null) => (got = err)) as never);
    expect(called).toBe(0);
    expect(got!.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});
