/**
 * Alerts end to end: reports through the real collector fire and resolve alert episodes on the right
 * layer and rank, persisted, and delivered to a local webhook receiver with retries.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulateRun } from "../../cli/runSimulate";
import { TelemetryClient } from "../../lib/client/TelemetryClient";
import { ALERT_RULE_IDS, type RuleOverrides } from "../../lib/analysis/alerts/alertRules";
import { smallRanks, smallRun, startCollector, tempDatabaseUrl, waitFor } from "./harness";

interface Received {
  path: string;
  body: {
    text: string;
    moe_alert: {
      event: string; ruleId: string; layer: number | null; alertId: string; groupKey: string; message: string; of: number | null;
      firing: Array<{ layer: number | null; alertId: string }>; resolved: Array<{ layer: number | null }>;
    };
  };
}

/** A webhook receiver on loopback; /flaky fails the first request of each alert event. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const failedOnce = new Set<string>();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const parsed = JSON.parse(body) as Received["body"];
      const k = `${parsed.moe_alert.alertId}/${parsed.moe_alert.event}`;
      if (req.url === "/flaky" && !failedOnce.has(k)) {
        failedOnce.add(k);
        res.writeHead(503).end("try later");
        return;
      }
      received.push({ path: req.url ?? "", body: parsed });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((r) => server.close(() => r())) };
}

const fast: RuleOverrides = {
  "ep-imbalance-high": { threshold: 1.5, forMs: 300, keepFiringMs: 400 },
  "maxvio-high": { enabled: false },
  "aux-loss-high": { enabled: false },
  "aux-loss-spike": { enabled: false },
  "z-loss-spike": { enabled: false },
  "memory-headroom-low": { enabled: false },
  "alloc-retries-growing": { enabled: false },
  "rank-silent": { enabled: false },
};

describe("alerts", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let c: Awaited<ReturnType<typeof startCollector>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    c = await startCollector(tempDatabaseUrl(), { alertRules: fast, webhooks: [`${receiver.url}/ok`, `${receiver.url}/flaky`] });
  });
  afterAll(async () => {
    await c.stop();
    await receiver.close();
  });

  it("fires on the imbalanced layer with the worst EP rank, resolves when balanced, and delivers both with retries", async () => {
    const run = smallRun("alerting");
    const { runId } = await new TelemetryClient(c.address).registerRun(run);
    const client = new TelemetryClient(c.address);
    const ranks = smallRanks().filter((r) => r.coords.pp === 1); // layers 3 and 4
    const streams = ranks.map((r) => client.openStream(run.runKey, r));
    // Layer 3: experts 0-1 (EP rank 0) get almost everything in group edp 0 -> EP imbalance 1.875 > 1.5 there;
    // Layer 4 stays balanced.
    const hot = [16, 14, 1, 1];
    const flat = [8, 8, 8, 8];
    const send = (step: number, imbalanced: boolean) =>
      ranks.forEach((r, i) => {
        const l3 = imbalanced && r.coords.edp === 0 ? hot : flat;
        streams[i].send(
          [
            { step, layer: 3, microBatches: 1, tokens: 16, tokensPerExpert: l3, losses: {} },
            { step, layer: 4, microBatches: 1, tokens: 16, tokensPerExpert: flat, losses: {} },
          ],
          [],
        );
      });
    let step = 0;
    const sendFor = async (ms: number, imbalanced: boolean) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        send(++step, imbalanced);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await sendFor(900, true);
    await waitFor(async () => (await c.db.prisma.alert.count({ where: { runId, status: "firing" } })) === 1, 5_000, "alert firing");
    const firing = await c.db.prisma.alert.findFirstOrThrow({ where: { runId } });
    // Group edp 0: EP rank 0 receives 16+14 from each of its 2 sources = 60, EP rank 1 receives 2+2... mean 32.
    expect(firing).toMatchObject({ ruleId: "ep-imbalance-high", layer: 3, rank: null, severity: "critical", status: "firing" });
    expect(firing.value).toBeCloseTo(60 / 32, 9);
    expect(JSON.parse(firing.labels)).toMatchObject({ edp: 0, epRank: 0 });
    expect(firing.message).toMatch(/layer 3: EP rank 0 of dispatch group edp 0 receives 1\.88x/);

    await sendFor(1_200, false);
    await waitFor(async () => (await c.db.prisma.alert.count({ where: { runId, status: "resolved" } })) === 1, 5_000, "alert resolved");
    await Promise.all(streams.map((s) => s.close()));
    client.close();
    const resolved = await c.db.prisma.alert.findFirstOrThrow({ where: { runId } });
    expect(Number(resolved.resolvedAtMs)).toBeGreaterThan(Number(resolved.firedAtMs));
    expect(resolved.peakValue).toBeCloseTo(60 / 32, 9);

    await waitFor(() => receiver.received.filter((r) => r.body.moe_alert.event === "resolved").length === 2, 5_000, "webhooks");
    const events = receiver.received.map((r) => `${r.path}:${r.body.moe_alert.event}`).sort();
    expect(events).toEqual(["/flaky:firing", "/flaky:resolved", "/ok:firing", "/ok:resolved"]);
    expect(receiver.received[0].body.text).toMatch(/^\[(CRITICAL|RESOLVED)\]/);
    const log = await c.db.prisma.alertDelivery.findMany({ where: { alertId: firing.id }, orderBy: [{ url: "asc" }, { event: "asc" }, { attempt: "asc" }] });
    // The flaky receiver failed each event once (HTTP 503) and got it on attempt 2.
    expect(log.map((d) => [d.url.endsWith("flaky") ? "flaky" : "ok", d.event, d.attempt, d.ok, d.statusCode])).toEqual([
      ["flaky", "firing", 1, false, 503],
      ["flaky", "firing", 2, true, 200],
      ["flaky", "resolved", 1, false, 503],
      ["flaky", "resolved", 2, true, 200],
      ["ok", "firing", 1, true, 200],
      ["ok", "resolved", 1, true, 200],
    ]);
  });

  it("sends one webhook message per (run, rule) group per interval, not one per layer, and logs each delivery on every episode", async () => {
    const own = await startCollector(tempDatabaseUrl(), {
      alertRules: {
        ...fast,
        "ep-imbalance-high": { threshold: 1.5, forSteps: 2, keepFiringSteps: 5 },
        "maxvio-high": { enabled: true, threshold: 0.3, forSteps: 2, keepFiringSteps: 5 },
      },
      webhooks: [`${receiver.url}/grouped`],
      // A wait long enough for both layers to join; an interval that holds back per-layer changes.
      grouping: { groupWaitMs: 600, groupIntervalMs: 1_500 },
    });
    try {
      const run = smallRun("grouped");
      const { runId } = await new TelemetryClient(own.address).registerRun(run);
      const client = new TelemetryClient(own.address);
      const ranks = smallRanks().filter((r) => r.coords.pp === 1); // layers 3 and 4
      const streams = ranks.map((r) => client.openStream(run.runKey, r));
      const hot = [16, 14, 1, 1];
      const flat = [8, 8, 8, 8];
      let step = 0;
      // Layer 3 crosses first; layer 4 a few steps later: still one message per rule.
      const send = (l3: boolean, l4: boolean) => {
        step++;
        ranks.forEach((r, i) => {
          const x = (on: boolean) => (on && r.coords.edp === 0 ? hot : flat);
          streams[i].send(
            [
              { step, layer: 3, microBatches: 1, tokens: 16, tokensPerExpert: x(l3), losses: {} },
              { step, layer: 4, microBatches: 1, tokens: 16, tokensPerExpert: x(l4), losses: {} },
            ],
            [],
          );
        });
      };
      const mine = () => receiver.received.filter((r) => r.path === "/grouped");
      for (let i = 0; i < 30; i++) {
        send(true, i >= 3);
        await new Promise((r) => setTimeout(r, 40));
      }
      await waitFor(() => mine().length >= 2, 5_000, "two group messages");
      await new Promise((r) => setTimeout(r, 700));
      // 2 rules x 2 layers = 4 episodes, 2 messages.
      expect(await own.db.prisma.alert.count({ where: { runId, status: "firing" } })).toBe(4);
      const firing = mine().map((r) => r.body.moe_alert);
      expect(firing.map((m) => `${m.ruleId}:${m.event}:${m.firing.map((f) => f.layer).join(",")}`).sort()).toEqual([
        "ep-imbalance-high:firing:3,4",
        "maxvio-high:firing:3,4",
      ]);
      expect(new Set(firing.map((m) => m.groupKey)).size).toBe(2);
      const ep = firing.find((m) => m.ruleId === "ep-imbalance-high")!;
      expect(ep.message).toMatch(/^test grouped: ep-imbalance-high on 2 of 3 layers, worst layer \d at 1\.88x \(threshold 1\.50x\), since step \d+$/);
      expect(ep.of).toBe(3); // the run has 3 MoE layers

      for (let i = 0; i < 15; i++) {
        send(false, false);
        await new Promise((r) => setTimeout(r, 40));
      }
      await waitFor(() => mine().filter((r) => r.body.moe_alert.event === "resolved").length === 2, 8_000, "two resolved group messages");
      await new Promise((r) => setTimeout(r, 500));
      expect(mine().map((r) => `${r.body.moe_alert.ruleId}:${r.body.moe_alert.event}`).sort()).toEqual([
        "ep-imbalance-high:firing",
        "ep-imbalance-high:resolved",
        "maxvio-high:firing",
        "maxvio-high:resolved",
      ]);
      const resolvedEp = mine().find((r) => r.body.moe_alert.ruleId === "ep-imbalance-high" && r.body.moe_alert.event === "resolved")!.body.moe_alert;
      expect(resolvedEp.resolved.map((m) => m.layer).sort()).toEqual([3, 4]);
      // Each episode's delivery log has the group's messages.
      for (const a of await own.db.prisma.alert.findMany({ where: { runId } })) {
        const log = await own.db.prisma.alertDelivery.findMany({ where: { alertId: a.id }, orderBy: { atMs: "asc" } });
        expect(log.map((d) => `${d.event}:${d.ok}`)).toEqual(["firing:true", "resolved:true"]);
      }
      await Promise.all(streams.map((st) => st.close()));
      client.close();
    } finally {
      await own.stop();
    }
  });

  it("fires ep-imbalance-high in the simulator's early-imbalance scenario on the layer and EP rank the aggregates show, then resolves", async () => {
    const s = await simulateRun({
      collector: c.address, ranks: 32, steps: 160, scenario: "early-imbalance", experts: 8, topk: 2, layers: 8, ep: 8, pp: 4, tp: 1, cp: 1,
      seed: 5, stepIntervalMs: 25, runKey: "sim-alerts",
    });
    const run = await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: s.runKey } });
    await waitFor(async () => (await c.db.prisma.alert.count({ where: { runId: run.id, status: "firing" } })) === 0, 5_000, "all resolved");
    const alerts = await c.db.prisma.alert.findMany({ where: { runId: run.id, ruleId: "ep-imbalance-high" }, orderBy: { firedAtMs: "asc" } });
    expect(alerts.length).toBeGreaterThan(0);
    for (const a of alerts) {
      const agg = await c.db.prisma.layerAggregate.findUniqueOrThrow({ where: { runId_layer_step: { runId: run.id, layer: a.layer!, step: a.step } } });
      expect(agg.epImbalance).toBeCloseTo(a.value, 9);
      // The labels follow the episode while it fires (the worst EP rank may move between steps): they name the
      // worst EP rank the layer's aggregate showed at some step of the episode.
      const episode = await c.db.prisma.layerAggregate.findMany({
        where: { runId: run.id, layer: a.layer!, step: { gte: a.step, lte: a.lastStep ?? a.step } },
        select: { epWorstRank: true },
      });
      expect(episode.map((e) => e.epWorstRank)).toContain(JSON.parse(a.labels).epRank);
      expect(a.status).toBe("resolved");
    }
    // Early training is where they fire: every episode started in the imbalanced first half.
    expect(Math.max(...alerts.map((a) => a.step))).toBeLessThan(110);
  });

  it("judges aux-loss-spike against the median of the layer's last `window` complete steps, many steps in one batch", async () => {
    const spikesOnly: RuleOverrides = Object.fromEntries(
      ALERT_RULE_IDS.map((id) => [id, id === "aux-loss-spike" ? { enabled: true, threshold: 1.3, window: 5 } : { enabled: false }]),
    );
    const own = await startCollector(tempDatabaseUrl(), { alertRules: spikesOnly });
    try {
      const run = smallRun("spiking");
      const { runId } = await new TelemetryClient(own.address).registerRun(run);
      const client = new TelemetryClient(own.address);
      const ranks = smallRanks().filter((r) => r.coords.pp === 1); // layers 3 and 4
      // Layer 3's aux loss: 1.0 for steps 1-5, 0.1 for steps 6-10, 0.2 at step 11. Only a baseline of the last 5
      // steps (median 0.1: ratio 2.0) fires; all 10 steps (median 0.55) or the first 5 (1.0) would not.
      // Layer 4 stays at 0.1 throughout. Every step goes in one batch per rank, so one flush judges them all.
      const aux3 = (step: number) => (step <= 5 ? 1.0 : step <= 10 ? 0.1 : 0.2);
      const flat = [4, 4, 4, 4];
      const steps = Array.from({ length: 11 }, (_, i) => i + 1);
      const streams = ranks.map((r) => client.openStream(run.runKey, r));
      ranks.forEach((_, i) =>
        streams[i].send(
          steps.flatMap((step) => [
            { step, layer: 3, microBatches: 1, tokens: 8, tokensPerExpert: flat, losses: { load_balancing_loss: aux3(step) } },
            { step, layer: 4, microBatches: 1, tokens: 8, tokensPerExpert: flat, losses: { load_balancing_loss: 0.1 } },
          ]),
          [],
        ),
      );
      await Promise.all(streams.map((st) => st.close()));
      client.close();
      await waitFor(async () => (await own.db.prisma.alert.count({ where: { runId } })) === 1, 5_000, "one spike alert");
      const alert = await own.db.prisma.alert.findFirstOrThrow({ where: { runId } });
      expect(alert).toMatchObject({ ruleId: "aux-loss-spike", layer: 3, step: 11 });
      expect(alert.value).toBeCloseTo(2.0, 9);
    } finally {
      await own.stop();
    }
  });
});
