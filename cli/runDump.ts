/**
 * `moe-telemetry dump`: a run's stored reports as JSON lines (layer reports, step samples, events),
 * for scripts, tests and support.
 */
import { layerReportFromRow } from "../lib/store/layerReportRows";
import { openDatabase } from "../lib/store/db";
import { findRunByKey } from "../lib/store/runsRepo";

/** runDump is the `dump` command. */
export async function runDump(o: { run: string; database: string }): Promise<void> {
  const db = await openDatabase(o.database);
  try {
    const run = await findRunByKey(db, o.run);
    const out = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj)}\n`);
    out({ kind: "run", id: run.id, runKey: run.runKey, name: run.name, simulated: run.simulated, status: run.status, worldSize: run.worldSize, config: run.config });
    const pageSize = 5_000;
    for (let skip = 0; ; skip += pageSize) {
      const rows = await db.prisma.layerReport.findMany({
        where: { runId: run.id },
        orderBy: [{ step: "asc" }, { layer: "asc" }, { rank: "asc" }],
        skip,
        take: pageSize,
      });
      for (const r of rows) {
        out({ kind: "layer", rank: r.rank, ...layerReportFromRow(r.step, r) });
      }
      if (rows.length < pageSize) break;
    }
    const steps = await db.prisma.stepSample.findMany({ where: { runId: run.id }, orderBy: [{ step: "asc" }, { rank: "asc" }] });
    for (const s of steps) {
      out({
        kind: "step",
        rank: s.rank,
        step: s.step,
        iterationTimeMs: s.iterationTimeMs,
        lmLoss: s.lmLoss,
        memory:
          s.peakAllocatedBytes === null
            ? null
            : {
                allocatedBytes: Number(s.allocatedBytes),
                reservedBytes: Number(s.reservedBytes),
                peakAllocatedBytes: Number(s.peakAllocatedBytes),
                numOoms: Number(s.numOoms),
                numAllocRetries: Number(s.numAllocRetries),
              },
      });
    }
    const events = await db.prisma.runEvent.findMany({ where: { runId: run.id }, orderBy: { createdAt: "asc" } });
    for (const e of events) {
      out({ kind: e.kind, rank: e.rank, step: e.step, layer: e.layer, phase: e.phase, message: e.message, peakAllocatedBytes: e.peakAllocatedBytes === null ? null : Number(e.peakAllocatedBytes) });
    }
  } finally {
    await db.close();
  }
}
