/**
 * The simulator through the real client and collector: what a newcomer sees in the demo.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulateRun } from "../../cli/runSimulate";
import { startCollector, tempDatabaseUrl } from "./harness";

type Started = Awaited<ReturnType<typeof startCollector>>;

const base = { ranks: 32, experts: 8, topk: 2, layers: 8, ep: 8, pp: 4, tp: 1, cp: 1, seed: 3, stepIntervalMs: 0 };

describe("simulate", () => {
  let c: Started;
  beforeAll(async () => {
    c = await startCollector(tempDatabaseUrl());
  });
  afterAll(async () => c.stop());

  it("streams an early-imbalance run whose stored EP imbalance is high early and settles later", async () => {
    const s = await simulateRun({ ...base, collector: c.address, steps: 120, scenario: "early-imbalance", runKey: "sim-imb" });
    expect(s).toMatchObject({ steps: 120, rejected: 0, oom: null });
    // 32 ranks, PP 4, 8 layers -> 2 MoE layers per rank: 64 reports per step.
    expect(s.layerReports).toBe(64 * 120);
    const run = await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: "sim-imb" } });
    expect(run.simulated).toBe(true);
    expect(run.status).toBe("finished");
    expect(await c.db.prisma.layerReport.count({ where: { runId: run.id } })).toBe(64 * 120);
    const early = await c.db.prisma.layerAggregate.aggregate({ where: { runId: run.id, step: { lte: 10 } }, _avg: { epImbalance: true, maxVio: true } });
    const late = await c.db.prisma.layerAggregate.aggregate({ where: { runId: run.id, step: { gte: 110 } }, _avg: { epImbalance: true, maxVio: true } });
    expect(early._avg.maxVio!).toBeGreaterThan(2 * late._avg.maxVio!);
    expect(early._avg.epImbalance!).toBeGreaterThan(late._avg.epImbalance!);
    const incomplete = await c.db.prisma.layerAggregate.count({ where: { runId: run.id, ranksReported: { lt: 8 } } });
    expect(incomplete).toBe(0);
  });

  it("ends an oom run with the last gasp of the worst EP rank", async () => {
    const s = await simulateRun({ ...base, collector: c.address, steps: 80, scenario: "oom", runKey: "sim-oom" });
    expect(s.oom).not.toBeNull();
    const run = await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: "sim-oom" } });
    expect(run.status).toBe("oom");
    const events = await c.db.prisma.runEvent.findMany({ where: { runId: run.id } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: "oom", rank: s.oom!.rank, step: s.oom!.step });
    expect(events[0].message).toMatch(/out of memory/i);
    // Nothing after the OOM step was sent.
    const after = await c.db.prisma.layerReport.count({ where: { runId: run.id, step: { gt: s.oom!.step } } });
    expect(after).toBe(0);
  });
});

describe("simulate with more ranks than one HTTP/2 connection carries (issue 18.7)", () => {
  it("completes --ranks 1024 and stores every rank's data (streams spread over several connections)", { timeout: 150_000 }, async () => {
    const c = await startCollector(tempDatabaseUrl());
    try {
      // 1,024 ranks, PP 4 over 4 layers: one MoE layer per rank and step; past step 64 the simulator waits for acks.
      const s = await simulateRun({ ...base, ranks: 1024, layers: 4, pp: 4, collector: c.address, steps: 70, scenario: "balanced", runKey: "sim-1024" });
      expect(s).toMatchObject({ steps: 70, rejected: 0 });
      const run = await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: "sim-1024" } });
      const ranks = await c.db.prisma.layerReport.groupBy({ by: ["rank"], where: { runId: run.id, step: 70 } });
      expect(ranks.length).toBe(1024);
      expect(await c.db.prisma.layerReport.count({ where: { runId: run.id } })).toBe(s.layerReports);
    } finally {
      await c.stop();
    }
  });
});
