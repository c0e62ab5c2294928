/**
 * Export of a run as CSV or JSON, streamed in pages so a 100k-step run never sits in memory: the
 * cross-rank aggregates per (step, layer) by default, or the raw per-rank counts. The CLI
 * (`moe-telemetry export`) and GET /api/runs/{id}/export both read it.
 */
import { layerReportFromRow } from "../../store/layerReportRows";
import { unpackCounts } from "../../store/packCounts";
import { LOSS_NAMES } from "../../analysis/types";
import type { Db } from "../../store/db";
import { NotFound } from "../../analysis/errors";
import { runFromRow, type RunRecord } from "../../store/runsRepo";

/** ExportOptions: what to export. */
export interface ExportOptions {
  format: "csv" | "json";
  /** Per-rank counts (LayerReport rows) instead of the per-(step, layer) aggregates. */
  raw?: boolean;
  /**
   * CSV only: the run's named series instead (`name,layer,step,value`: an imported log's `lm loss`, `z_loss`,
   * `learning rate`, ...; layer 0 = run-level). JSON always carries them under "series".
   */
  series?: boolean;
  pageSize?: number;
}

const LOSS_COLUMNS = ["loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss"] as const;

/** csvCell quotes a value for CSV when it needs it (RFC 4180). */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" && !Number.isFinite(v) ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** findRunForExport resolves a run by id or run key. */
export async function findRunForExport(db: Db, idOrKey: string): Promise<RunRecord> {
  const row = (await db.prisma.run.findUnique({ where: { id: idOrKey } })) ?? (await db.prisma.run.findUnique({ where: { runKey: idOrKey } }));
  if (!row) throw new NotFound(`run "${idOrKey}" does not exist (give its id or its run key)`, "run");
  return runFromRow(row);
}

/** exportRun yields the export in chunks of text. */
export async function* exportRun(db: Db, run: RunRecord, o: ExportOptions): AsyncGenerator<string> {
  const pageSize = o.pageSize ?? 2_000;
  if (o.format === "csv" && o.series) {
    yield "name,layer,step,value\n";
    for await (const rows of seriesPages(db, run.id, pageSize)) {
      yield rows.map((r) => `${[r.name, r.layer, r.step, r.value].map(csvCell).join(",")}\n`).join("");
    }
    return;
  }
  const experts = Array.from({ length: run.numExperts }, (_, e) => e);
  if (o.format === "json") {
    const meta = {
      id: run.id, runKey: run.runKey, name: run.name, simulated: run.simulated, status: run.status, worldSize: run.worldSize,
      gpusPerNode: run.gpusPerNode, gpuMemoryBytes: run.gpuMemoryBytes, framework: run.framework, frameworkVersion: run.frameworkVersion,
      config: run.config, commandLine: run.commandLine, moeLayers: run.moeLayers,
    };
    yield `{"run":${JSON.stringify(meta)},"${o.raw ? "layerReports" : "aggregates"}":[`;
  } else {
    yield o.raw
      ? `step,layer,rank,micro_batches,tokens,dropped,${LOSS_NAMES.join(",")},${experts.map((e) => `tokens_e${e}`).join(",")}\n`
      : `step,layer,ranks_reported,ranks_expected,tokens,max_vio,cv,normalized_entropy,dead_experts,ep_imbalance,ep_worst_edp,ep_worst_rank,drop_fraction,${LOSS_NAMES.join(",")},${experts.map((e) => `load_e${e}`).join(",")}\n`;
  }
  let first = true;
  if (o.raw) {
    for (let skip = 0; ; skip += pageSize) {
      const rows = await db.prisma.layerReport.findMany({
        where: { runId: run.id }, orderBy: [{ step: "asc" }, { layer: "asc" }, { rank: "asc" }], skip, take: pageSize,
      });
      const out: string[] = [];
      for (const r of rows) {
        const rep = layerReportFromRow(r.step, r);
        const losses = LOSS_NAMES.map((n) => rep.losses[n] ?? null);
        if (o.format === "json") {
          out.push(`${first ? "" : ","}${JSON.stringify({
            step: rep.step, layer: rep.layer, rank: r.rank, microBatches: rep.microBatches, tokens: rep.tokens,
            dropped: rep.dropped ?? null, tokensPerExpert: rep.tokensPerExpert,
            ...(rep.tokensPerExpertBeforeDrop ? { tokensPerExpertBeforeDrop: rep.tokensPerExpertBeforeDrop } : {}),
            ...(rep.receivedPerLocalExpert ? { receivedPerLocalExpert: rep.receivedPerLocalExpert } : {}),
            losses: rep.losses,
          })}`);
        } else {
          out.push(`${[rep.step, rep.layer, r.rank, rep.microBatches, rep.tokens, rep.dropped ?? null, ...losses, ...rep.tokensPerExpert].map(csvCell).join(",")}\n`);
        }
        first = false;
      }
      if (out.length) yield out.join(o.format === "json" ? "" : "");
      if (rows.length < pageSize) break;
    }
  } else {
    for (let skip = 0; ; skip += pageSize) {
      const rows = await db.prisma.layerAggregate.findMany({
        where: { runId: run.id }, orderBy: [{ step: "asc" }, { layer: "asc" }], skip, take: pageSize,
      });
      const out: string[] = [];
      for (const a of rows) {
        const load = unpackCounts(a.load);
        const losses = LOSS_COLUMNS.map((c) => a[c]);
        if (o.format === "json") {
          out.push(`${first ? "" : ","}${JSON.stringify({
            step: a.step, layer: a.layer, ranksReported: a.ranksReported, ranksExpected: a.ranksExpected, tokens: Number(a.tokens),
            maxVio: a.maxVio, cv: a.cv, normalizedEntropy: a.entropy, deadExperts: a.deadExperts, epImbalance: a.epImbalance,
            epWorst: a.epWorstRank === null ? null : { edp: a.epWorstEdp, epRank: a.epWorstRank }, dropFraction: a.dropFraction,
            losses: Object.fromEntries(LOSS_NAMES.map((n, i) => [n, losses[i]]).filter(([, v]) => v !== null)), load,
          })}`);
        } else {
          out.push(`${[
            a.step, a.layer, a.ranksReported, a.ranksExpected, Number(a.tokens), a.maxVio, a.cv, a.entropy, a.deadExperts,
            a.epImbalance, a.epWorstEdp, a.epWorstRank, a.dropFraction, ...losses, ...load,
          ].map(csvCell).join(",")}\n`);
        }
        first = false;
      }
      if (out.length) yield out.join("");
      if (rows.length < pageSize) break;
    }
  }
  if (o.format === "json") {
    // The named series (RunScalar rows), every stored value: an imported log can be got back out.
    yield `],"series":[`;
    let firstPoint = true;
    for await (const rows of seriesPages(db, run.id, pageSize)) {
      yield rows.map((r) => {
        const s = `${firstPoint ? "" : ","}${JSON.stringify({ name: r.name, layer: r.layer, step: r.step, value: Number.isFinite(r.value) ? r.value : null })}`;
        firstPoint = false;
        return s;
      }).join("");
    }
    const events = await db.prisma.runEvent.findMany({ where: { runId: run.id }, orderBy: { step: "asc" } });
    const samples = await db.prisma.stepSample.findMany({ where: { runId: run.id }, orderBy: [{ step: "asc" }, { rank: "asc" }] });
    yield `],"events":${JSON.stringify(events.map((e) => ({
      kind: e.kind, rank: e.rank, step: e.step, layer: e.layer, phase: e.phase, message: e.message,
      peakAllocatedBytes: e.peakAllocatedBytes === null ? null : Number(e.peakAllocatedBytes),
    })))},"stepSamples":${JSON.stringify(samples.map((s) => ({
      rank: s.rank, step: s.step, iterationTimeMs: s.iterationTimeMs, lmLoss: s.lmLoss,
      allocatedBytes: s.allocatedBytes === null ? null : Number(s.allocatedBytes),
      reservedBytes: s.reservedBytes === null ? null : Number(s.reservedBytes),
      peakAllocatedBytes: s.peakAllocatedBytes === null ? null : Number(s.peakAllocatedBytes),
      numOoms: s.numOoms === null ? null : Number(s.numOoms), numAllocRetries: s.numAllocRetries === null ? null : Number(s.numAllocRetries),
    })))}}\n`;
  }
}

/** seriesPages reads a run's RunScalar rows in pages, by name, layer and step. */
async function* seriesPages(db: Db, runId: string, pageSize: number): AsyncGenerator<Array<{ name: string; layer: number; step: number; value: number }>> {
  for (let skip = 0; ; skip += pageSize) {
    const rows = await db.prisma.runScalar.findMany({
      where: { runId }, orderBy: [{ name: "asc" }, { layer: "asc" }, { step: "asc" }], skip, take: pageSize,
      select: { name: true, layer: true, step: true, value: true },
    });
    if (rows.length) yield rows;
    if (rows.length < pageSize) break;
  }
}
