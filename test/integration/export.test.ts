/**
 * Export: what `moe-telemetry export` and GET /api/runs/{id}/export produce, checked against the stored rows.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TelemetryClient } from "../../lib/client/TelemetryClient";
import { unpackCounts } from "../../lib/store/packCounts";
import { csvCell, exportRun, findRunForExport } from "../../lib/web/data/exportRun";
import { layersOfStage, report, smallRanks, smallRun, startCollector, tempDatabaseUrl } from "./harness";

async function text(chunks: AsyncGenerator<string>): Promise<string> {
  let s = "";
  for await (const c of chunks) s += c;
  return s;
}

describe("export", () => {
  let c: Awaited<ReturnType<typeof startCollector>>;
  let url: string;
  beforeAll(async () => {
    url = tempDatabaseUrl();
    c = await startCollector(url);
    const client = new TelemetryClient(c.address);
    const run = smallRun("export, \"quoted\"");
    await client.registerRun(run);
    const streams = smallRanks().map((r) => client.openStream(run.runKey, r));
    for (let step = 1; step <= 3; step++) {
      smallRanks().forEach((r, i) => streams[i].send(layersOfStage(r.coords.pp).map((l) => report(r.rank, step, l)), [{ step }]));
    }
    await Promise.all(streams.map((s) => s.close()));
    client.close();
  });
  afterAll(async () => c.stop());

  it("quotes CSV cells that need it", () => {
    expect([csvCell('a"b'), csvCell("a,b"), csvCell(1.5), csvCell(null), csvCell(Number.NaN)]).toEqual(['"a""b"', '"a,b"', "1.5", "", ""]);
  });

  it("exports aggregates as CSV with one column per expert", async () => {
    const run = await findRunForExport(c.db, 'export, "quoted"');
    const csv = (await text(exportRun(c.db, run, { format: "csv" }))).trim().split("\n");
    const header = csv[0].split(",");
    expect(header.slice(0, 3)).toEqual(["step", "layer", "ranks_reported"]);
    expect(header.slice(-4)).toEqual(["load_e0", "load_e1", "load_e2", "load_e3"]);
    expect(csv).toHaveLength(1 + 3 * 3); // 3 steps x 3 MoE layers
    const aggs = await c.db.prisma.layerAggregate.findMany({ where: { runId: run.id }, orderBy: [{ step: "asc" }, { layer: "asc" }] });
    csv.slice(1).forEach((line, i) => {
      const cells = line.split(",");
      expect(cells.slice(-4).map(Number)).toEqual(unpackCounts(aggs[i].load));
      expect(Number(cells[0])).toBe(aggs[i].step);
    });
  });

  it("exports raw per-rank counts as JSON, with events and step samples", async () => {
    const run = await findRunForExport(c.db, 'export, "quoted"');
    const doc = JSON.parse(await text(exportRun(c.db, run, { format: "json", raw: true, pageSize: 5 })));
    expect(doc.run).toMatchObject({ runKey: 'export, "quoted"', moeLayers: [2, 3, 4] });
    expect(doc.layerReports).toHaveLength(12 * 3);
    for (const r of doc.layerReports) expect(r.tokensPerExpert).toEqual(report(r.rank, r.step, r.layer).tokensPerExpert);
    expect(doc.stepSamples).toHaveLength(8 * 3);
    expect(doc.events).toEqual([]);
  });

  it("works from the CLI by run key, and names an unknown run", () => {
    const bin = path.resolve(import.meta.dirname, "../../bin/moe-telemetry.mjs");
    const out = execFileSync(process.execPath, [bin, "export", 'export, "quoted"', "--format", "json", "--database", url], { encoding: "utf8" });
    expect(JSON.parse(out).aggregates).toHaveLength(9);
    expect(() => execFileSync(process.execPath, [bin, "export", "nope", "--database", url], { encoding: "utf8", stdio: "pipe" })).toThrow(/run "nope" does not exist/);
  });
});
