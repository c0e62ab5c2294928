/**
 * Killing the collector with SIGKILL mid-stream and starting it again on the same database and port
 * loses no acked report and stores every report exactly once after the clients resend.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { TelemetryClient } from "../../lib/client/TelemetryClient";
import { openDatabase } from "../../lib/store/db";
import { unpackCounts } from "../../lib/store/packCounts";
import { layersOfStage, report, smallRanks, smallRun, spawnCollector, tempDatabaseUrl, waitFor } from "./harness";

describe("collector restart", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill("SIGKILL");
  });

  it("loses no acked report across a SIGKILL and stores each report once", async () => {
    const url = tempDatabaseUrl();
    const first = await spawnCollector(url);
    children.push(first.child);
    const address = `127.0.0.1:${first.port}`;
    const client = new TelemetryClient(address, { backoffMs: [50, 300] });
    const run = smallRun("restart");
    const { runId } = await client.registerRun(run);
    const ranks = smallRanks();
    const streams = ranks.map((r) => client.openStream(run.runKey, r));
    const steps = 120;
    const ackedBeforeKill: number[] = [];
    for (let step = 1; step <= steps; step++) {
      ranks.forEach((r, i) => streams[i].send(layersOfStage(r.coords.pp).map((l) => report(r.rank, step, l)), [{ step }]));
      if (step === 60) {
        // Wait until some batches are durable, remember what was acked, then kill without warning.
        await waitFor(() => streams.every((s) => s.pending() < 60), 10_000, "first acks");
        for (const s of streams) ackedBeforeKill.push(60 - s.pending());
        first.child.kill("SIGKILL");
        await new Promise((r) => first.child.once("exit", r));
        const second = await spawnCollector(url, first.port);
        children.push(second.child);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(streams.map((s) => s.close(30_000)));
    client.close();
    expect(streams.reduce((a, s) => a + s.reconnects, 0)).toBeGreaterThanOrEqual(8);

    const db = await openDatabase(url);
    try {
      const rows = await db.prisma.layerReport.findMany({ where: { runId } });
      // Exactly once: the primary key forbids duplicates, so the count proves nothing was lost either.
      expect(rows).toHaveLength(12 * steps);
      for (const row of rows) expect(unpackCounts(row.counts)).toEqual(report(row.rank, row.step, row.layer).tokensPerExpert);
      // Every batch acked before the kill is there (batch n of a rank carries step n).
      ranks.forEach((r, i) => {
        const have = new Set(rows.filter((x) => x.rank === r.rank).map((x) => x.step));
        for (let step = 1; step <= ackedBeforeKill[i]; step++) expect(have.has(step)).toBe(true);
      });
      expect(ackedBeforeKill.every((n) => n > 0)).toBe(true);
      const agg = await db.prisma.layerAggregate.count({ where: { runId } });
      expect(agg).toBe(3 * steps);
      const full = await db.prisma.layerAggregate.count({ where: { runId, ranksReported: 4 } });
      expect(full).toBe(3 * steps);
    } finally {
      await db.close();
    }
  });
});
