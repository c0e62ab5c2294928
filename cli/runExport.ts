/**
 * `moe-telemetry export <run>`: a run's aggregates (or raw per-rank counts, or with --series in CSV its named
 * series; JSON always has them) as CSV or JSON, to stdout
 * or a file.
 */
import fs from "node:fs";
import { once } from "node:events";
import { openDatabase } from "../lib/store/db";
import { exportRun, findRunForExport } from "../lib/web/data/exportRun";

/** runExport is the `export` command. */
export async function runExport(run: string, o: { format: "csv" | "json"; raw?: boolean; series?: boolean; out?: string; database: string }): Promise<void> {
  const db = await openDatabase(o.database);
  const out = o.out ? fs.createWriteStream(o.out) : process.stdout;
  try {
    const record = await findRunForExport(db, run);
    for await (const chunk of exportRun(db, record, { format: o.format, raw: o.raw, series: o.series })) {
      if (!out.write(chunk)) await once(out, "drain");
    }
    if (o.out) {
      await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
      console.error(`exported ${record.name} (${record.runKey}) to ${o.out}`);
    }
  } finally {
    await db.close();
  }
}
