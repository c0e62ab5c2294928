/**
 * Delivery guarantees across client processes: a restarted job (a new client instance of the same rank)
 * never has a batch counted durable that the collector did not store from it, a forged sequence number
 * cannot hide later data, and a rewrite of a stored record with other values is refused by name.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TelemetryClient } from "../../lib/client/TelemetryClient";
import { unpackCounts } from "../../lib/store/packCounts";
import type { LayerReport, RankInfo } from "../../lib/analysis/types";
import { layersOfStage, report, smallRanks, smallRun, startCollector, tempDatabaseUrl } from "./harness";

type Started = Awaited<ReturnType<typeof startCollector>>;

const rank0: RankInfo = smallRanks()[0];

function layersAt(step: number): LayerReport[] {
  return layersOfStage(rank0.coords.pp).map((l) => report(rank0.rank, step, l));
}

async function storedSteps(c: Started, runId: string): Promise<number[]> {
  const rows = await c.db.prisma.layerReport.findMany({ where: { runId, rank: rank0.rank }, select: { step: true }, orderBy: { step: "asc" } });
  return rows.map((r) => r.step);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe("delivery across client processes", () => {
  let c: Started;

  beforeAll(async () => {
    c = await startCollector(tempDatabaseUrl());
  });
  afterAll(async () => {
    await c.stop();
  });

  it("stores every step of a restarted job (a new process of the same rank) that overlaps its predecessor", async () => {
    const run = smallRun("restarted-job");
    const first = new TelemetryClient(c.address);
    const { runId } = await first.registerRun(run);
    const before = first.openStream(run.runKey, rank0);
    for (let step = 1; step <= 50; step++) before.send(layersAt(step), []);
    await before.close(10_000);
    first.close();

    // The job restarts from its checkpoint at step 30: a new process, new sequence numbers from 1.
    const second = new TelemetryClient(c.address);
    const after = second.openStream(run.runKey, rank0);
    for (let step = 31; step <= 80; step++) after.send(layersAt(step), []);
    await after.close(10_000);
    second.close();

    expect(after.rejected).toBe(0); // steps 31-50 were resent with the same values: a no-op
    expect(await storedSteps(c, runId)).toEqual(range(1, 80));
    const instances = await c.db.prisma.rankInstance.findMany({ where: { runId, rank: 0 }, orderBy: { firstSeenMs: "asc" } });
    expect(instances.map((i) => Number(i.durableSeq)).sort((a, b) => a - b)).toEqual([50, 50]);
    expect(new Set(instances.map((i) => i.instance))).toEqual(new Set([first.instance, second.instance]));
  });

  it("is not fooled by a forged huge sequence number: a later client's batches are all stored", async () => {
    const run = smallRun("poisoned-seq");
    const attacker = new TelemetryClient(c.address);
    const { runId } = await attacker.registerRun(run);
    await attacker.write(run.runKey, rank0, Number.MAX_SAFE_INTEGER, layersAt(1), []);
    attacker.close();

    const client = new TelemetryClient(c.address);
    const stream = client.openStream(run.runKey, rank0);
    for (let step = 2; step <= 21; step++) stream.send(layersAt(step), []);
    await stream.close(10_000);
    client.close(); // right away, as a training job's exit would

    expect(await storedSteps(c, runId)).toEqual(range(1, 21));
  });

  it("refuses a rewrite of a stored report with other counts by its key, and keeps an identical resend a no-op", async () => {
    const run = smallRun("conflicting-rewrite");
    const client = new TelemetryClient(c.address);
    const { runId } = await client.registerRun(run);
    const original = layersAt(7);
    await client.write(run.runKey, rank0, 1, original, []);
    // The same records again: stored once, no complaint.
    await expect(client.write(run.runKey, rank0, 2, original, [])).resolves.toMatchObject({ accepted: original.length });

    const changed = original.map((r) => ({ ...r, tokensPerExpert: [16, 16, 0, 0] }));
    const err = await client.write(run.runKey, rank0, 3, changed, []).then(
      () => null,
      (e: grpc.ServiceError) => e,
    );
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toContain(`conflicts with the stored report (run ${run.runKey}, step 7, layer 2, rank 0): counts differ`);
    expect(err?.metadata.get("moe-accepted-records")).toEqual(["0"]);
    const stored = await c.db.prisma.layerReport.findFirstOrThrow({ where: { runId, step: 7, layer: 2, rank: 0 } });
    expect(unpackCounts(stored.counts)).toEqual(original[0].tokensPerExpert);

    // On a stream the refusal arrives after the batch is durable, per record, with ALREADY_EXISTS.
    const refused: Array<{ seq: number; code: string; field: string; reason: string }> = [];
    const streaming = new TelemetryClient(c.address, { onRejected: (_rank, seq, r) => refused.push({ seq, code: r.code, field: r.field, reason: r.reason }) });
    const stream = streaming.openStream(run.runKey, rank0);
    stream.send([...original, { ...report(0, 8, 2) }], [{ step: 7, iterationTimeMs: 5 }]);
    stream.send(changed, [{ step: 7, iterationTimeMs: 9 }]);
    await stream.close(10_000);
    streaming.close();
    client.close();
    expect(refused).toEqual([
      { seq: 2, code: "ALREADY_EXISTS", field: "layers[0]", reason: expect.stringContaining("step 7, layer 2, rank 0): counts differ") },
    ]);
    expect(await storedSteps(c, runId)).toEqual([7, 8]);
    // A step sample is a measurement a restarted job repeats with new times: its first write is kept, silently.
    const sample = await c.db.prisma.stepSample.findFirstOrThrow({ where: { runId, rank: 0, step: 7 } });
    expect(sample.iterationTimeMs).toBe(5);
  });
});
