/**
 * The Prometheus text exposition served at /metrics: firing alerts and the key gauges of every run
 * active in the last hour, so Grafana and Alertmanager users can plug in.
 */
import { Gauge, Registry } from "prom-client";
import { getDb } from "../data/webDb";

const ACTIVE_WINDOW_MS = 3_600_000;

/** renderPrometheusMetrics builds a fresh registry from the database and renders it. */
export async function renderPrometheusMetrics(nowMs: number = Date.now()): Promise<{ body: string; contentType: string }> {
  const db = await getDb();
  const p = db.sql.param;
  const registry = new Registry();
  const firing = new Gauge({ name: "moe_alert_firing", help: "1 for every firing alert", labelNames: ["run", "run_id", "rule", "severity", "layer", "rank"], registers: [registry] });
  const lastStep = new Gauge({ name: "moe_run_last_step", help: "Highest step any rank reported", labelNames: ["run", "run_id", "simulated"], registers: [registry] });
  const epWorst = new Gauge({ name: "moe_run_ep_imbalance_worst", help: "Worst EP rank's received tokens over its dispatch group's mean, over all MoE layers, at the newest step", labelNames: ["run", "run_id"], registers: [registry] });
  const maxVio = new Gauge({ name: "moe_layer_maxvio", help: "MaxVio (max expert load / mean - 1) per MoE layer at the newest step", labelNames: ["run", "run_id", "layer"], registers: [registry] });
  const layerEp = new Gauge({ name: "moe_layer_ep_imbalance", help: "EP imbalance per MoE layer at the newest step", labelNames: ["run", "run_id", "layer"], registers: [registry] });
  const memRatio = new Gauge({ name: "moe_rank_peak_memory_ratio", help: "Peak allocated memory / GPU memory per rank at its newest step", labelNames: ["run", "run_id", "rank"], registers: [registry] });

  const alerts = await db.prisma.alert.findMany({ where: { status: "firing" }, include: { run: { select: { name: true } } } });
  for (const a of alerts) {
    firing.set({ run: a.run.name, run_id: a.runId, rule: a.ruleId, severity: a.severity, layer: a.layer === null ? "" : String(a.layer), rank: a.rank === null ? "" : String(a.rank) }, 1);
  }
  const runs = await db.prisma.run.findMany({ where: { lastSeenMs: { gte: BigInt(nowMs - ACTIVE_WINDOW_MS) } } });
  for (const run of runs) {
    const labels = { run: run.name, run_id: run.id };
    if (run.lastStep !== null) lastStep.set({ ...labels, simulated: String(run.simulated) }, run.lastStep);
    const newest = (await db.prisma.$queryRawUnsafe(
      `SELECT MAX("step") AS step FROM "LayerAggregate" WHERE "runId" = ${p(1)} AND "ranksReported" >= "ranksExpected"`,
      run.id,
    )) as Array<{ step: number | bigint | null }>;
    const step = newest[0]?.step;
    if (step !== null && step !== undefined) {
      const aggs = await db.prisma.layerAggregate.findMany({ where: { runId: run.id, step: Number(step) }, select: { layer: true, maxVio: true, epImbalance: true } });
      let worst: number | null = null;
      for (const a of aggs) {
        if (a.maxVio !== null) maxVio.set({ ...labels, layer: String(a.layer) }, a.maxVio);
        if (a.epImbalance !== null) {
          layerEp.set({ ...labels, layer: String(a.layer) }, a.epImbalance);
          worst = worst === null ? a.epImbalance : Math.max(worst, a.epImbalance);
        }
      }
      if (worst !== null) epWorst.set(labels, worst);
    }
    const gpu = Number(run.gpuMemoryBytes);
    if (gpu > 0) {
      const mem = (await db.prisma.$queryRawUnsafe(
        `SELECT s."rank" AS rank, s."peakAllocatedBytes" AS peak FROM "StepSample" s
           JOIN (SELECT "rank", MAX("step") AS step FROM "StepSample" WHERE "runId" = ${p(1)} AND "peakAllocatedBytes" IS NOT NULL GROUP BY "rank") m
             ON s."rank" = m."rank" AND s."step" = m.step
          WHERE s."runId" = ${p(2)}`,
        run.id,
        run.id,
      )) as Array<{ rank: number | bigint; peak: number | bigint | null }>;
      for (const m of mem) if (m.peak !== null) memRatio.set({ ...labels, rank: String(Number(m.rank)) }, Number(m.peak) / gpu);
    }
  }
  return { body: await registry.metrics(), contentType: registry.contentType };
}
