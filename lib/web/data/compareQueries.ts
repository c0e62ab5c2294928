/**
 * Run comparison: per-layer aux loss, MaxVio and EP imbalance of several runs, downsampled in the
 * database (min/max kept per bucket) and aligned by step or by cumulative tokens, plus a configuration
 * diff under Megatron's argument names.
 */
import type { CompareDto, CompareRunDto, CompareSeriesDto } from "../../dto";
import { deriveRunStatus } from "../../analysis/deriveRunStatus";
import type { LossName } from "../../analysis/types";
import { configRows } from "../../analysis/configRows";
import { meanOf, type MetricColumn } from "../../store/bucketStats";
import { bucketSizeFor, readStepBuckets, storedStepRange } from "./stepBuckets";
import { runFromRow, type RunRecord } from "../../store/runsRepo";
import { getDb } from "./webDb";

const AUX_COLUMN: Record<string, { loss: LossName; column: string }> = {
  aux_loss: { loss: "load_balancing_loss", column: "loadBalancingLoss" },
  seq_aux_loss: { loss: "seq_load_balancing_loss", column: "seqLoadBalancingLoss" },
  global_aux_loss: { loss: "global_load_balancing_loss", column: "globalLoadBalancingLoss" },
};

/** CompareOptions: the layer to compare (all MoE layers when omitted), the x axis and the points per series. */
export interface CompareOptions {
  layer?: number;
  alignBy: "step" | "tokens";
  maxPoints?: number;
}

async function seriesOf(run: RunRecord, opts: CompareOptions): Promise<CompareRunDto> {
  const db = await getDb();
  const aux = AUX_COLUMN[run.config.moe_router_load_balancing_type ?? "aux_loss"] ?? AUX_COLUMN.aux_loss;
  const base = {
    id: run.id,
    runKey: run.runKey,
    name: run.name,
    status: deriveRunStatus(run.status, run.lastSeenMs, Date.now()),
    simulated: run.simulated,
    lastStep: run.lastStep,
    moeLayers: run.moeLayers,
    auxLoss: aux.loss,
  };
  const range = await storedStepRange(db, "LayerAggregate", run.id);
  if (!range) return { ...base, bucketSize: 1, series: [] };
  const from = range.min;
  const hi = range.max;
  const bucket = bucketSizeFor(from, Number(hi), opts.maxPoints ?? 300);
  const columns = { aux: aux.column as MetricColumn, maxVio: "maxVio", epImbalance: "epImbalance" } as const;
  const buckets = await readStepBuckets(db, {
    runId: run.id, moeLayers: run.moeLayers, layers: opts.layer === undefined ? undefined : [opts.layer],
    fromStep: from, toStep: Number(hi), firstStoredStep: from, bucketSize: bucket, metrics: Object.values(columns),
  });

  const series = new Map<string, CompareSeriesDto>();
  const cumulative = new Map<number, number>();
  for (const r of buckets) {
    const layer = r.layer;
    // x for tokens: tokens this layer processed up to the end of the bucket (sum of aggregate tokens over steps).
    const tokens = (cumulative.get(layer) ?? 0) + r.tokens;
    cumulative.set(layer, tokens);
    const step = r.firstStep;
    for (const [name, metricName] of [["aux", "auxLoss"], ["maxVio", "maxVio"], ["epImbalance", "epImbalance"]] as const) {
      const stats = r.metrics[columns[name]];
      const avg = meanOf(stats);
      if (avg === null || !stats) continue;
      const key = `${layer}/${metricName}`;
      let s = series.get(key);
      if (!s) series.set(key, (s = { layer, metric: metricName, points: [] }));
      s.points.push({ x: opts.alignBy === "tokens" ? tokens : step, step, value: avg, min: stats.min!, max: stats.max! });
    }
  }
  return { ...base, bucketSize: bucket, series: [...series.values()] };
}

/** compareRuns returns each run's per-layer aux loss, MaxVio and EP imbalance aligned by step or tokens, and a config diff. */
export async function compareRuns(runIds: string[], opts: CompareOptions): Promise<CompareDto> {
  const db = await getDb();
  const ids = [...new Set(runIds)];
  const rows = await db.prisma.run.findMany({ where: { id: { in: ids } } });
  const byId = new Map(rows.map((r) => [r.id, runFromRow(r)]));
  const found = ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
  const runs = await Promise.all(found.map((r) => seriesOf(r, opts)));
  return { alignBy: opts.alignBy, layer: opts.layer ?? null, runs, config: configDiff(found), missing: ids.filter((id) => !byId.has(id)) };
}

/** configDiff lists every Megatron argument any run set (defaults filled in), the launch sizes, and whether the runs differ. */
export function configDiff(runs: RunRecord[]): CompareDto["config"] {
  const perRun = runs.map((r) => {
    const m = new Map<string, { value: string; group: string }>();
    for (const row of configRows(r.config)) m.set(row.name, { value: row.value, group: row.group });
    m.set("world_size", { value: String(r.worldSize), group: "Launch" });
    m.set("gpus_per_node", { value: String(r.gpusPerNode), group: "Launch" });
    m.set("gpu_memory_bytes", { value: String(r.gpuMemoryBytes), group: "Launch" });
    return m;
  });
  const names: Array<{ name: string; group: string }> = [];
  const seen = new Set<string>();
  for (const m of perRun) {
    for (const [name, v] of m) {
      if (seen.has(name)) continue;
      seen.add(name);
      names.push({ name, group: v.group });
    }
  }
  return names.map(({ name, group }) => {
    const values = perRun.map((m) => m.get(name)?.value ?? null);
    return { name, group, values, differs: values.some((v) => v !== values[0]) };
  });
}
