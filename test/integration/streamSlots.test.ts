/**
 * Stream slots against hostile clients (issue 18.4): streams that never send their RankHello are closed
 * within COLLECTOR_HELLO_TIMEOUT_MS instead of holding a slot for the 10-minute idle timeout, and one
 * project's token cannot take every slot of COLLECTOR_MAX_STREAMS: another project's rank still gets in.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { Collector } from "../../collector/Collector";
import { admissionSettings } from "../../collector/admission";
import { TelemetryClient } from "../../lib/client/TelemetryClient";
import { loadTelemetryProto } from "../../lib/wire/loadTelemetryProto";
import { openDatabase, type Db } from "../../lib/store/db";
import { createIngestToken } from "../../lib/store/ingestTokens";
import { report, smallRanks, smallRun, tempDatabaseUrl } from "./harness";

const svc = loadTelemetryProto().Telemetry.service;
const identity = (b: Buffer) => b;
const RawStream = grpc.makeGenericClientConstructor(
  { Stream: { ...svc.Stream, requestSerialize: identity, responseDeserialize: identity } } as unknown as grpc.ServiceDefinition,
  "RawStream",
);
type Raw = { Stream: (md: grpc.Metadata) => grpc.ClientDuplexStream<Buffer, Buffer>; close: () => void };

const HELLO_MS = 600;

describe("stream slots under a hostile token", () => {
  let db: Db;
  let collector: Collector;
  let address = "";
  const tokens = { a: "", b: "" };
  const raws: Raw[] = [];

  beforeAll(async () => {
    db = await openDatabase(tempDatabaseUrl());
    collector = new Collector({
      db,
      logger: pino({ level: "silent" }),
      flushIntervalMs: 20,
      auth: { mode: "on", cacheTtlMs: 0 },
      admission: { maxStreams: 8, maxStreamsPerProject: 4, helloTimeoutMs: HELLO_MS },
    });
    address = `127.0.0.1:${await collector.listen("127.0.0.1", 0)}`;
    tokens.a = (await createIngestToken(db, { projectName: "hostile", name: "a", createdBy: "test" })).token;
    tokens.b = (await createIngestToken(db, { projectName: "honest", name: "b", createdBy: "test" })).token;
  });
  afterAll(async () => {
    for (const r of raws) r.close();
    await collector.shutdown(1_000);
    await db.close();
  });

  /** helloless opens a stream with a valid token and sends nothing; resolves with its final status. */
  function helloless(token: string): { status: Promise<grpc.StatusObject>; openedAt: number } {
    const raw = new RawStream(address, grpc.credentials.createInsecure()) as unknown as Raw;
    raws.push(raw);
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    const call = raw.Stream(md);
    call.on("data", () => undefined);
    call.on("error", () => undefined);
    return { status: new Promise((resolve) => call.on("status", resolve)), openedAt: Date.now() };
  }

  it("refuses a project's streams past its share, lets another project's rank in, and closes hello-less streams", async () => {
    const held = Array.from({ length: 6 }, () => helloless(tokens.a));
    // Past the share of 4: refused at once with RESOURCE_EXHAUSTED and a hint, naming the setting.
    const firstDone = await Promise.race(held.map((h) => h.status.then((s) => ({ s, at: Date.now() - h.openedAt }))));
    expect(grpc.status[firstDone.s.code]).toBe("RESOURCE_EXHAUSTED");
    expect(firstDone.s.details).toMatch(/open streams, its share of the collector \(COLLECTOR_MAX_STREAMS_PER_PROJECT 4 of COLLECTOR_MAX_STREAMS 8\); retry after \d+ ms/);
    expect(Number(firstDone.s.metadata.get("retry-after-ms")[0])).toBeGreaterThan(0);

    // While the hostile project holds its share, the honest project's rank opens a stream and is stored.
    const honest = new TelemetryClient(address, { token: tokens.b, deadlineMs: 5_000 });
    try {
      await honest.registerRun(smallRun("honest-run"));
      const rank = smallRanks()[0];
      const stream = honest.openStream("honest-run", rank);
      stream.send([report(0, 1, 2)], []);
      await stream.acked();
      await stream.close();
    } finally {
      honest.close();
    }

    const statuses = await Promise.all(held.map(async (h) => ({ s: await h.status, ms: Date.now() - h.openedAt })));
    const codes = statuses.map((x) => grpc.status[x.s.code]).sort();
    expect(codes).toEqual(["DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "RESOURCE_EXHAUSTED"]);
    for (const x of statuses.filter((y) => y.s.code === grpc.status.DEADLINE_EXCEEDED)) {
      expect(x.s.details).toMatch(/sent no RankHello within 600 ms of opening \(COLLECTOR_HELLO_TIMEOUT_MS\)/);
      // Closed by the hello deadline, seconds before any idle timeout.
      expect(x.ms).toBeLessThan(HELLO_MS + 5_000);
    }
  });

  it("gives the slots back: the hostile project can open its share again once its streams ended", async () => {
    const again = Array.from({ length: 4 }, () => helloless(tokens.a));
    const statuses = await Promise.all(again.map((h) => h.status));
    expect(statuses.map((s) => grpc.status[s.code])).toEqual(Array(4).fill("DEADLINE_EXCEEDED"));
  });

  it("a stream that sends its hello is not closed by the hello deadline", async () => {
    const client = new TelemetryClient(address, { token: tokens.b, deadlineMs: 5_000 });
    try {
      const stream = client.openStream("honest-run", smallRanks()[1]);
      stream.send([report(1, 1, 2)], []);
      await stream.acked();
      await new Promise((r) => setTimeout(r, HELLO_MS * 2));
      stream.send([report(1, 2, 2)], []);
      await stream.acked();
      expect(stream.error).toBeNull();
      await stream.close();
    } finally {
      client.close();
    }
  });
});

describe("stream slot defaults", () => {
  it("close a hello-less stream within seconds and keep a project to half of COLLECTOR_MAX_STREAMS", () => {
    const d = admissionSettings({}, {});
    expect(d.helloTimeoutMs).toBeLessThanOrEqual(10_000);
    expect(d.maxStreamsPerProject).toBe(d.maxStreams / 2);
    expect(admissionSettings({}, { COLLECTOR_MAX_STREAMS: "100" }).maxStreamsPerProject).toBe(50);
    expect(admissionSettings({}, { COLLECTOR_MAX_STREAMS_PER_PROJECT: "7" }).maxStreamsPerProject).toBe(7);
  });
});
