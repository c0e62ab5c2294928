/**
 * SIGTERM: the collector stops accepting, flushes and acks what it holds, closes the database and exits 0.
 */
import { describe, expect, it } from "vitest";
import { TelemetryClient } from "../../lib/client/TelemetryClient";
import { openDatabase } from "../../lib/store/db";
import { report, smallRanks, smallRun, spawnCollector, tempDatabaseUrl, waitFor } from "./harness";

describe("collector shutdown", () => {
  it("acks and stores what it received before SIGTERM and exits 0", async () => {
    const url = tempDatabaseUrl();
    const { child, port } = await spawnCollector(url, 0, { SHUTDOWN_GRACE_MS: "500" });
    let output = "";
    child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    const client = new TelemetryClient(`127.0.0.1:${port}`, { backoffMs: [50, 200] });
    const run = smallRun("shutdown");
    const { runId } = await client.registerRun(run);
    const rank = smallRanks()[4];
    const stream = client.openStream(run.runKey, rank);
    for (let step = 1; step <= 30; step++) stream.send([report(4, step, 3), report(4, step, 4)], [{ step }]);
    await waitFor(() => stream.pending() < 30, 10_000, "the first acks");
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const acked = 30 - stream.pending();
    client.close();
    expect(output).toMatch(/"signal":"SIGTERM"/);
    expect(output).toMatch(/collector stopped/);
    const db = await openDatabase(url);
    try {
      const steps = new Set((await db.prisma.layerReport.findMany({ where: { runId }, select: { step: true } })).map((r) => r.step));
      for (let s = 1; s <= acked; s++) expect(steps.has(s)).toBe(true);
      const rankRow = await db.prisma.rank.findUniqueOrThrow({ where: { runId_rank: { runId, rank: 4 } } });
      // What the collector acked is exactly what it recorded as durable.
      expect(Number(rankRow.durableSeq)).toBeGreaterThanOrEqual(acked);
    } finally {
      await db.close();
    }
  });
});
