/**
 * A token's project may register only COLLECTOR_MAX_RUNS_PER_MINUTE new runs per minute (issue 18.8): a
 * token registered 3,000 runs in 23 s, after which the runs list took half a second to load.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { Collector } from "../../collector/Collector";
import { TelemetryClient } from "../../lib/client/TelemetryClient";
import { openDatabase, type Db } from "../../lib/store/db";
import { createIngestToken } from "../../lib/store/ingestTokens";
import { smallRun, tempDatabaseUrl } from "./harness";

describe("runs per minute per project", () => {
  let db: Db;
  let collector: Collector;
  let address = "";
  const clients: TelemetryClient[] = [];
  const client = (token: string) => {
    const c = new TelemetryClient(address, { token, overloadRetries: 0, deadlineMs: 5_000 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    db = await openDatabase(tempDatabaseUrl());
    collector = new Collector({ db, logger: pino({ level: "silent" }), auth: { mode: "on", cacheTtlMs: 0 }, admission: { maxRunsPerMinute: 3 } });
    address = `127.0.0.1:${await collector.listen("127.0.0.1", 0)}`;
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await collector.shutdown(1_000);
    await db.close();
  });

  it("refuses the project's next new run with RESOURCE_EXHAUSTED and a hint, stores nothing, and lets other projects and known runs through", async () => {
    const flood = client((await createIngestToken(db, { projectName: "flood", name: "f", createdBy: "test" })).token);
    for (let i = 0; i < 3; i++) await flood.registerRun(smallRun(`flood-${i}`));
    const refused = await flood.registerRun(smallRun("flood-3")).then(
      () => null,
      (err: grpc.ServiceError) => err,
    );
    expect(refused).not.toBeNull();
    expect(grpc.status[refused!.code]).toBe("RESOURCE_EXHAUSTED");
    expect(refused!.details).toMatch(/project flood registered 3 new runs in the last minute, its limit \(COLLECTOR_MAX_RUNS_PER_MINUTE\); nothing was registered, retry after \d+ ms/);
    const hint = Number(refused!.metadata.get("retry-after-ms")[0]);
    expect(hint).toBeGreaterThan(0);
    expect(hint).toBeLessThanOrEqual(60_000);
    expect(await db.prisma.run.count({ where: { runKey: "flood-3" } })).toBe(0);
    // Registering a run it already has is not a new run.
    expect((await flood.registerRun(smallRun("flood-0"))).created).toBe(false);
    // Another project is not affected.
    const other = client((await createIngestToken(db, { projectName: "calm", name: "c", createdBy: "test" })).token);
    expect((await other.registerRun(smallRun("calm-0"))).created).toBe(true);
  });
});
