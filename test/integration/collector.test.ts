/**
 * The collector end to end: real gRPC server on port 0, real SQLite file, the TypeScript client.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TelemetryClient } from "../../lib/client/TelemetryClient";
import { unpackCounts } from "../../lib/store/packCounts";
import { layersOfStage, report, smallRanks, smallRun, startCollector, tempDatabaseUrl, waitFor } from "./harness";

type Started = Awaited<ReturnType<typeof startCollector>>;

function grpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  return p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (err: grpc.ServiceError) => err,
  );
}

describe("collector", () => {
  let c: Started;
  let client: TelemetryClient;

  beforeAll(async () => {
    c = await startCollector(tempDatabaseUrl());
    client = new TelemetryClient(c.address);
  });
  afterAll(async () => {
    client.close();
    await c.stop();
  });

  it("registers a run idempotently and refuses the same key with another layout", async () => {
    const run = smallRun("idem");
    const first = await client.registerRun(run);
    const again = await client.registerRun(run);
    expect(first.created).toBe(true);
    expect(again).toEqual({ runId: first.runId, created: false, moeLayers: [2, 3, 4] });
    const err = await grpcError(client.registerRun({ ...run, config: { ...run.config, num_experts: 8 } }));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err.details).toMatch(/num_experts \(stored 4, sent 8\)/);
  });

  it("stores every rank's stream, acks it, and aggregates global load across ranks", async () => {
    const run = smallRun("stream");
    const { runId } = await client.registerRun(run);
    const ranks = smallRanks();
    const streams = ranks.map((r) => client.openStream(run.runKey, r));
    const steps = 5;
    for (let step = 1; step <= steps; step++) {
      ranks.forEach((r, i) => {
        const layers = layersOfStage(r.coords.pp).map((l) => report(r.rank, step, l));
        streams[i].send(layers, [{ step, iterationTimeMs: 100, memory: { allocatedBytes: 1, reservedBytes: 3, peakAllocatedBytes: 2, numOoms: 0, numAllocRetries: 0 } }]);
      });
    }
    await Promise.all(streams.map((s) => s.close(10_000)));

    const rows = await c.db.prisma.layerReport.findMany({ where: { runId } });
    // 4 ranks on stage 0 x 1 MoE layer + 4 ranks on stage 1 x 2 MoE layers = 12 reports per step.
    expect(rows).toHaveLength(12 * steps);
    for (const row of rows) expect(unpackCounts(row.counts)).toEqual(report(row.rank, row.step, row.layer).tokensPerExpert);
    expect(await c.db.prisma.stepSample.count({ where: { runId } })).toBe(8 * steps);

    const agg = await c.db.prisma.layerAggregate.findUnique({ where: { runId_layer_step: { runId, layer: 3, step: 2 } } });
    expect(agg).not.toBeNull();
    const expected = [0, 0, 0, 0];
    for (const r of ranks.filter((x) => x.coords.pp === 1)) {
      report(r.rank, 2, 3).tokensPerExpert.forEach((v, e) => (expected[e] += v));
    }
    expect(unpackCounts(agg!.load)).toEqual(expected);
    expect(agg!.ranksReported).toBe(4);
    expect(agg!.ranksExpected).toBe(4);
    expect(Number(agg!.tokens)).toBe(4 * 16);
    // MaxVio = max/mean - 1 on the summed load (mean = 128/4 = 32).
    expect(agg!.maxVio).toBeCloseTo(Math.max(...expected) / 32 - 1, 12);

    const stored = await c.db.prisma.rank.findMany({ where: { runId } });
    expect(stored.map((r) => Number(r.durableSeq))).toEqual(Array(8).fill(steps));
    const runRow = await c.db.prisma.run.findUnique({ where: { id: runId } });
    expect(runRow!.lastStep).toBe(steps);
  });

  it("rejects a malformed record with INVALID_ARGUMENT naming the field and stores the rest of the batch", async () => {
    const run = smallRun("bad-input");
    const { runId } = await client.registerRun(run);
    const rank = smallRanks()[4]; // stage 1: layers 3 and 4
    const good1 = report(4, 1, 3);
    const good2 = report(4, 1, 4);
    const wrongLength = { ...report(4, 2, 3), tokensPerExpert: [1, 2, 3] };
    const err = await grpcError(client.write(run.runKey, rank, 1, [good1, wrongLength, good2], [{ step: 1 }]));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/layers\[1\]\.tokens_per_expert: expected 4 values \(num_experts\), got 3/);
    expect(err.metadata.get("moe-accepted-records")).toEqual(["3"]);
    const rows = await c.db.prisma.layerReport.findMany({ where: { runId }, orderBy: [{ step: "asc" }, { layer: "asc" }] });
    expect(rows.map((r) => [r.step, r.layer])).toEqual([[1, 3], [1, 4]]);
  });

  const badCases: Array<{ name: string; mutate: (r: ReturnType<typeof report>) => ReturnType<typeof report>; field: RegExp }> = [
    { name: "negative count", mutate: (r) => ({ ...r, tokensPerExpert: [-1, 17, 8, 8] }), field: /tokens_per_expert\[0\]: -1 is not a non-negative integer/ },
    { name: "count above the tokens routed", mutate: (r) => ({ ...r, tokensPerExpert: [17, 15, 0, 0] }), field: /tokens_per_expert\[0\]: 17 exceeds the 16 tokens/ },
    { name: "NaN z-loss", mutate: (r) => ({ ...r, losses: { z_loss: Number.NaN } }), field: /layers\[0\]\.z_loss: NaN is not a finite/ },
    { name: "infinite aux loss", mutate: (r) => ({ ...r, losses: { load_balancing_loss: Number.POSITIVE_INFINITY } }), field: /load_balancing_loss: Infinity/ },
    { name: "layer out of range", mutate: (r) => ({ ...r, layer: 9 }), field: /layers\[0\]\.layer: layer 9 is outside 1\.\.4/ },
    { name: "dense layer", mutate: (r) => ({ ...r, layer: 1 }), field: /layer 1 is a dense layer/ },
    { name: "zero micro-batches", mutate: (r) => ({ ...r, microBatches: 0 }), field: /micro_batches/ },
  ];
  for (const bc of badCases) {
    it(`rejects ${bc.name}`, async () => {
      const run = smallRun(`bad-${bc.name}`);
      await client.registerRun(run);
      const err = await grpcError(client.write(run.runKey, smallRanks()[4], 1, [bc.mutate(report(4, 1, 3))], []));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(bc.field);
    });
  }

  it("refuses to register a layout Megatron could not build, naming the rule", async () => {
    const run = smallRun("bad-layout");
    const err = await grpcError(client.registerRun({ ...run, config: { ...run.config, expert_model_parallel_size: 3 } }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/experts-divisible-by-ep/);
    expect(err.details).toMatch(/world-divisible-by-etp-ep-pp/);
  });

  it("answers NOT_FOUND for an unknown run and INVALID_ARGUMENT for a rank outside the world", async () => {
    const unknown = await grpcError(client.write("no-such-run", smallRanks()[0], 1, [], []));
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.details).toMatch(/run "no-such-run" is not registered/);
    const run = smallRun("rank-range");
    await client.registerRun(run);
    const bad = await grpcError(client.write(run.runKey, { ...smallRanks()[0], rank: 8 }, 1, [], []));
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/rank 8 is outside the run's world size 8/);
  });

  it("reports rejections on the stream and keeps the stream and the rest of the batch", async () => {
    const run = smallRun("stream-reject");
    const { runId } = await client.registerRun(run);
    const rejections: string[] = [];
    const c2 = new TelemetryClient(c.address, { onRejected: (_rank, _seq, r) => rejections.push(`${r.field}: ${r.reason}`) });
    const s = c2.openStream(run.runKey, smallRanks()[4]);
    s.send([report(4, 1, 3), { ...report(4, 1, 4), losses: { z_loss: Number.NaN } }], []);
    s.send([report(4, 2, 3)], []);
    await s.close(10_000);
    c2.close();
    expect(rejections).toEqual(["layers[1].z_loss: NaN is not a finite non-negative loss value"]);
    expect(await c.db.prisma.layerReport.count({ where: { runId } })).toBe(2);
  });

  it("stores a resent batch once and does not double the aggregate", async () => {
    const run = smallRun("resend");
    const { runId } = await client.registerRun(run);
    const rank = smallRanks()[4];
    await client.write(run.runKey, rank, 1, [report(4, 1, 3)], []);
    await client.write(run.runKey, rank, 1, [report(4, 1, 3)], []);
    expect(await c.db.prisma.layerReport.count({ where: { runId } })).toBe(1);
    const agg = await c.db.prisma.layerAggregate.findUnique({ where: { runId_layer_step: { runId, layer: 3, step: 1 } } });
    expect(unpackCounts(agg!.load)).toEqual(report(4, 1, 3).tokensPerExpert);
    expect(agg!.ranksReported).toBe(1);
  });

  it("records an OOM last gasp and marks the run", async () => {
    const run = smallRun("oom");
    const { runId } = await client.registerRun(run);
    await client.reportOom(run.runKey, {
      rank: 5,
      step: 212,
      phase: "forward",
      layer: 3,
      message: "CUDA out of memory. Tried to allocate 2.00 GiB",
      memory: { allocatedBytes: 70 * 2 ** 30, reservedBytes: 78 * 2 ** 30, peakAllocatedBytes: 79 * 2 ** 30, numOoms: 1, numAllocRetries: 12 },
    });
    const ev = await c.db.prisma.runEvent.findMany({ where: { runId } });
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ kind: "oom", rank: 5, step: 212, layer: 3, phase: "forward" });
    expect(Number(ev[0].peakAllocatedBytes)).toBe(79 * 2 ** 30);
    await waitFor(async () => (await c.db.prisma.run.findUnique({ where: { id: runId } }))!.status === "oom", 2_000, "status oom");
  });
});
