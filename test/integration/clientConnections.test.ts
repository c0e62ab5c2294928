/**
 * The TypeScript client against the collector's per-connection stream limit (issue 18.7): streams are
 * spread over enough HTTP/2 connections, and a stream that cannot be opened fails loudly instead of
 * waiting forever for a slot.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { Collector } from "../../collector/Collector";
import { TelemetryClient, WELCOME_ATTEMPTS } from "../../lib/client/TelemetryClient";
import { openDatabase, type Db } from "../../lib/store/db";
import { layersOfStage, report, smallRanks, smallRun, tempDatabaseUrl } from "./harness";

describe("client connections", () => {
  let db: Db;
  let collector: Collector;
  let address = "";

  beforeAll(async () => {
    db = await openDatabase(tempDatabaseUrl());
    // Two streams per connection: what 256 is to the default, at test scale.
    collector = new Collector({ db, logger: pino({ level: "silent" }), flushIntervalMs: 20, auth: { mode: "off" }, admission: { maxStreamsPerConnection: 2 } });
    address = `127.0.0.1:${await collector.listen("127.0.0.1", 0)}`;
    const setup = new TelemetryClient(address);
    await setup.registerRun(smallRun("conn-run"));
    setup.close();
  });
  afterAll(async () => {
    await collector.shutdown(1_000);
    await db.close();
  });

  it("opens another connection when one is full, so every rank's stream is acked", async () => {
    const client = new TelemetryClient(address, { streamsPerConnection: 2 });
    try {
      const streams = smallRanks().map((r) => client.openStream("conn-run", r));
      streams.forEach((s, i) => s.send([report(i, 1, layersOfStage(Math.floor(i / 4))[0])], []));
      await Promise.all(streams.map((s) => s.acked()));
      // 8 ranks at 2 per connection.
      expect(client.connections).toEqual([4]);
      await Promise.all(streams.map((s) => s.close()));
    } finally {
      client.close();
    }
    const run = await db.prisma.run.findUniqueOrThrow({ where: { runKey: "conn-run" } });
    expect(await db.prisma.layerReport.count({ where: { runId: run.id, step: 1 } })).toBe(8);
  });

  it("fails a stream loudly when the connection has no free slot, instead of waiting forever", async () => {
    // Misconfigured on purpose: the client believes 8 fit on a connection that carries 2.
    const errors: string[] = [];
    const client = new TelemetryClient(address, { streamsPerConnection: 8, welcomeTimeoutMs: 300, onReconnect: (_r, e) => errors.push(e.message) });
    try {
      const ranks = smallRanks().slice(0, 3);
      const streams = ranks.map((r) => client.openStream("conn-run", r));
      streams.forEach((s, i) => s.send([report(i, 2, 2)], []));
      const outcomes = await Promise.allSettled(streams.map((s) => s.acked()));
      const failed = outcomes.filter((o) => o.status === "rejected") as PromiseRejectedResult[];
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect(String(failed[0].reason)).toMatch(new RegExp(`no Welcome from the collector within 300 ms .*attempt ${WELCOME_ATTEMPTS} of ${WELCOME_ATTEMPTS}.*COLLECTOR_MAX_STREAMS_PER_CONNECTION`));
      expect(errors.some((e) => /attempt 1 of/.test(e))).toBe(true);
      expect(streams.some((s) => s.error !== null)).toBe(true);
    } finally {
      client.close();
    }
  });
});
