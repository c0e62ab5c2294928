/**
 * The import sink that writes straight to the database: each rank's records are validated per record
 * (validateBatch, in the context the collector uses) and stored by the collector's writer (writeBatches),
 * in batches no larger than a client may send, with the touched rollups refreshed afterwards. Used by
 * `moe-telemetry import` without --collector and by the dashboard's POST /api/import, so an import needs no
 * collector process and is validated and stored exactly as live data.
 */
import { limit } from "../wire/limits";
import type { LayerReport, RankInfo, RunInfo, ScalarPoint, StepSample } from "../analysis/types";
import { validateBatch } from "../wire/validateBatch";
import { batchContextOf } from "./batchContext";
import type { Db } from "./db";
import { writeBatches } from "./ingestStore";
import type { PendingBatch } from "./pendingBatch";
import { refreshRollupsAfterFlush } from "./rollups";
import { findRunByKey, recordRunEvent, registerRun, upsertRank, validateRank } from "./runsRepo";

/** Records per write: far below LIMITS.maxRecordsPerBatch and small enough to keep one transaction short. */
const RECORDS_PER_WRITE = 2_000;

/** databaseImportSink stores an import's records in `db` directly (see the module comment). */
export function databaseImportSink(db: Db, client = "moe-telemetry-import/0.1") {
  return {
    async registerRun(info: RunInfo): Promise<{ runId: string }> {
      const { run } = await registerRun(db, info, null);
      return { runId: run.id };
    },

    async sendRank(
      runKey: string,
      rank: RankInfo,
      records: { scalars: ScalarPoint[]; samples: StepSample[]; reports: LayerReport[] },
      onRejected: (reason: string) => void,
    ): Promise<void> {
      const run = await findRunByKey(db, runKey);
      validateRank(run, rank);
      await upsertRank(db, run.id, rank, client);
      const context = batchContextOf(run, rank.coords.pp);
      const per = Math.min(RECORDS_PER_WRITE, limit("maxRecordsPerBatch"));
      const write = async (layers: LayerReport[], steps: StepSample[], scalars: ScalarPoint[]) => {
        const checked = validateBatch(layers, steps, context, scalars);
        for (const r of checked.rejected) onRejected(r.reason);
        const pending: PendingBatch = { run, rank: rank.rank, seq: 0, layers: checked.layers, steps: checked.steps, scalars: checked.scalars, droppedBatches: 0 };
        const refreshed = await writeBatches(db, [pending], Date.now());
        for (const r of pending.conflicts ?? []) onRejected(r.reason);
        await refreshRollupsAfterFlush(db, refreshed);
      };
      for (let i = 0; i < records.scalars.length; i += per) await write([], [], records.scalars.slice(i, i + per));
      for (let i = 0; i < records.samples.length; i += per) await write([], records.samples.slice(i, i + per), []);
      for (let i = 0; i < records.reports.length; i += per) await write(records.reports.slice(i, i + per), [], []);
    },

    async finish(runKey: string, step: number, message: string): Promise<void> {
      await recordRunEvent(db, await findRunByKey(db, runKey), { rank: 0, kind: "finished", step, message });
    },
  };
}
