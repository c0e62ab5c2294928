/**
 * `moe-telemetry import` end to end: files on disk -> parsers -> the database (directly, or through a
 * collector with --collector), for the three formats, with the summary and the errors a user sees.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { concat, event, frameRecord, simpleValue } from "../../lib/importers/testdata/tfrecordWriter";
import { openDatabase, type Db } from "../../lib/store/db";
import { unpackCounts } from "../../lib/store/packCounts";
import { parseMegatronLogText } from "../../lib/importers/parseMegatronLog";
import { startCollector, tempDatabaseUrl } from "./harness";

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, "../../bin/moe-telemetry.mjs");
const FIXTURE = path.resolve(import.meta.dirname, "../../lib/importers/testdata/seunghyunseo-64e-top1-ep4.log");

async function cli(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { encoding: "utf8" });
    return { ...r, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe("import", () => {
  let url: string;
  let dir: string;
  let db: Db;
  beforeAll(async () => {
    url = tempDatabaseUrl();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "moe-import-"));
    db = await openDatabase(url);
  });
  afterAll(async () => db.close());

  it("imports a real Megatron log's losses and memory line, with a JSON summary", async () => {
    const r = await cli(["import", "megatron-log", FIXTURE, "--database", url, "--experts", "64", "--topk", "1", "--layers", "16", "--world-size", "8", "--run-key", "log", "--json"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(summary).toMatchObject({ runKey: "log", kind: "megatron-log", iterations: { first: 20, last: 1080 } });
    expect(summary.read.lines).toBe(fs.readFileSync(FIXTURE, "utf8").trimEnd().split("\n").length);
    expect(summary.series.map((s: { name: string }) => s.name)).toContain("load_balancing_loss");
    const runRow = await db.prisma.run.findUniqueOrThrow({ where: { runKey: "log" } });
    expect(runRow).toMatchObject({ simulated: false, status: "finished", numExperts: 64, worldSize: 8 });
    const aux = await db.prisma.runScalar.findMany({ where: { runId: runRow.id, name: "load_balancing_loss" }, orderBy: { step: "asc" } });
    // The fixture's values as Megatron logged them (1.0 = balanced), not "fixed".
    expect(aux[0]).toMatchObject({ step: 20, layer: 0, value: 1.436934 });
    expect(aux[aux.length - 1].value).toBeCloseTo(0.9994, 3);
    const mem = await db.prisma.stepSample.findMany({ where: { runId: runRow.id } });
    expect(mem).toHaveLength(1);
    expect(Number(mem[0].peakAllocatedBytes)).toBe(Math.round(33742.08056640625 * 1024 * 1024));
  });

  it("stores the same rows through a collector (--collector) as straight into the database", async () => {
    const file = path.join(dir, "rank3.jsonl");
    const lines = [1, 2, 3].flatMap((iteration) =>
      [1, 2].map((layer) => JSON.stringify({ iteration, layer, tokens_per_expert: [iteration + layer, 8 - layer, 4, 2 * iteration] })),
    );
    fs.writeFileSync(file, `${lines.join("\n")}\n`);
    const args = ["--topk", "2", "--world-size", "4", "--layers", "2", "--experts", "4"];
    const direct = await cli(["import", "tokens-jsonl", file, "--database", url, ...args, "--run-key", "direct", "--json"]);
    expect(direct.code).toBe(0);
    const c = await startCollector(tempDatabaseUrl());
    try {
      const viaCollector = await cli(["import", "tokens-jsonl", file, "--collector", c.address, ...args, "--run-key", "via", "--json"]);
      expect(viaCollector.code).toBe(0);
      const rowsOf = async (d: Db, runKey: string) => {
        const runRow = await d.prisma.run.findUniqueOrThrow({ where: { runKey } });
        const reports = await d.prisma.layerReport.findMany({ where: { runId: runRow.id }, orderBy: [{ step: "asc" }, { layer: "asc" }, { rank: "asc" }] });
        const aggregates = await d.prisma.layerAggregate.findMany({ where: { runId: runRow.id }, orderBy: [{ step: "asc" }, { layer: "asc" }] });
        return {
          status: runRow.status,
          lastStep: runRow.lastStep,
          reports: reports.map((r) => [r.step, r.layer, r.rank, Number(r.tokens), unpackCounts(r.counts)]),
          aggregates: aggregates.map((a) => [a.step, a.layer, a.ranksReported, unpackCounts(a.load), a.maxVio]),
        };
      };
      const a = await rowsOf(db, "direct");
      expect(a.reports).toHaveLength(6);
      expect(a.reports[0]).toEqual([1, 1, 3, 8, [2, 7, 4, 2]]); // tokens: ceil(15 assignments / top-2)
      expect(await rowsOf(c.db, "via")).toEqual(a);
    } finally {
      await c.stop();
    }
  });

  it("imports per-layer TensorBoard scalars, which the loss charts then show", async () => {
    const file = path.join(dir, "events.out.tfevents.1");
    const records = [event({ fileVersion: "brain.Event:2" })];
    for (let step = 1; step <= 5; step++) {
      records.push(event({ step, wallTime: 1_700_000_000 + step, values: [
        simpleValue("moe/load_balancing_loss_layer_0", 1.5 - step / 10),
        simpleValue("moe/z_loss_layer_1", 10 + step),
        simpleValue("lm loss", 11 - step / 2),
      ] }));
    }
    fs.writeFileSync(file, concat(records.map(frameRecord)));
    const r = await cli(["import", "tensorboard", file, "--database", url, "--experts", "8", "--topk", "2", "--layers", "2", "--run-key", "tb"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Imported tensorboard/);
    const runRow = await db.prisma.run.findUniqueOrThrow({ where: { runKey: "tb" } });
    const rows = await db.prisma.runScalar.findMany({ where: { runId: runRow.id }, orderBy: [{ name: "asc" }, { layer: "asc" }, { step: "asc" }] });
    // Megatron's per-layer tags count from 0; layer_number is 1-based.
    expect(rows.filter((x) => x.name === "load_balancing_loss").map((x) => [x.layer, x.step, +x.value.toFixed(6)])).toEqual([
      [1, 1, 1.4], [1, 2, 1.3], [1, 3, 1.2], [1, 4, 1.1], [1, 5, 1.0],
    ]);
    expect(rows.filter((x) => x.name === "z_loss").every((x) => x.layer === 2)).toBe(true);
  });

  it("imports a token-count dump as per-rank layer reports with aggregates", async () => {
    const file = path.join(dir, "tokens.jsonl");
    const lines: string[] = [];
    for (let it = 1; it <= 3; it++) for (const rank of [0, 1]) lines.push(JSON.stringify({ iteration: it, layer: 1, rank, tokens_per_expert: [6 + rank, 2, 4, 4 - rank] }));
    lines.push("{not json");
    fs.writeFileSync(file, `${lines.join("\n")}\n`);
    const r = await cli(["import", "tokens-jsonl", file, "--database", url, "--topk", "2", "--world-size", "2", "--run-key", "tok"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/skipped|Skipped/);
    const runRow = await db.prisma.run.findUniqueOrThrow({ where: { runKey: "tok" } });
    expect(runRow.numExperts).toBe(4);
    expect(await db.prisma.layerReport.count({ where: { runId: runRow.id } })).toBe(6);
    const agg = await db.prisma.layerAggregate.findUniqueOrThrow({ where: { runId_layer_step: { runId: runRow.id, layer: 1, step: 2 } } });
    expect(unpackCounts(agg.load)).toEqual([13, 4, 8, 7]);
  });

  it("names a missing file and a missing configuration", async () => {
    const missing = await cli(["import", "megatron-log", path.join(dir, "nope.log"), "--database", url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.log: no such file/);
    // A layout known only in part is still an error that names what is missing.
    const partial = await cli(["import", "megatron-log", FIXTURE, "--database", url, "--experts", "8", "--run-key", "partial"]);
    expect(partial.code).toBe(1);
    expect(partial.stderr).toMatch(/does not say num_layers, moe_router_topk: pass --config/);
  });

  it("imports a pasted log excerpt without an arguments block, layout unknown, and exports every value back", async () => {
    // Users paste a few iteration lines: no printed arguments, no --config.
    const excerpt = fs.readFileSync(FIXTURE, "utf8").split("\n").filter((l) => l.includes(" iteration ")).slice(0, 3);
    expect(excerpt).toHaveLength(3);
    const file = path.join(dir, "excerpt.log");
    fs.writeFileSync(file, `${excerpt.join("\n")}\n`);
    const r = await cli(["import", "megatron-log", file, "--database", url, "--run-key", "excerpt", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split("\n").pop()!)).toMatchObject({ runKey: "excerpt", layoutKnown: false });
    const text = await cli(["import", "megatron-log", file, "--database", url, "--run-key", "excerpt"]);
    expect(text.stdout).toMatch(/MoE layout unknown: .*--config/);
    const runRow = await db.prisma.run.findUniqueOrThrow({ where: { runKey: "excerpt" } });
    expect(runRow).toMatchObject({ numExperts: 0, numLayers: 0, topk: 0, moeLayers: "[]" });

    // Every value the excerpt holds, by series name, as the parser reads it.
    const parsed = parseMegatronLogText(excerpt.join("\n"));
    const want: Array<[string, number, number]> = [];
    for (const it of parsed.iterations) {
      if (it.lmLoss !== undefined) want.push(["lm loss", it.iteration, it.lmLoss]);
      for (const [n, v] of Object.entries(it.losses)) want.push([n, it.iteration, v]);
      if (it.iterationTimeMs !== undefined) want.push(["iteration time (ms)", it.iteration, it.iterationTimeMs]);
      if (it.learningRate !== undefined) want.push(["learning rate", it.iteration, it.learningRate]);
      if (it.gradNorm !== undefined) want.push(["grad norm", it.iteration, it.gradNorm]);
      if (it.lossScale !== undefined) want.push(["loss scale", it.iteration, it.lossScale]);
    }
    const sorted = (x: Array<[string, number, number]>) => [...x].sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1]);
    expect(want.map((w) => w[0])).toEqual(expect.arrayContaining(["lm loss", "load_balancing_loss", "learning rate", "grad norm"]));
    expect(want.length).toBeGreaterThanOrEqual(3 * 6);

    const json = await cli(["export", "excerpt", "--format", "json", "--database", url]);
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.run).toMatchObject({ runKey: "excerpt", moeLayers: [] });
    expect(doc.aggregates).toEqual([]);
    expect(doc.series.every((p: { layer: number }) => p.layer === 0)).toBe(true);
    expect(sorted(doc.series.map((p: { name: string; step: number; value: number }) => [p.name, p.step, p.value]))).toEqual(sorted(want));

    const csv = await cli(["export", "excerpt", "--format", "csv", "--series", "--database", url]);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split("\n");
    expect(lines[0]).toBe("name,layer,step,value");
    const rows = lines.slice(1).map((l) => {
      const [name, layer, step, value] = l.split(",");
      expect(layer).toBe("0");
      return [name, Number(step), Number(value)] as [string, number, number];
    });
    expect(sorted(rows)).toEqual(sorted(want));
  });

  it("stops at a corrupt TensorBoard length with the byte offset, keeping what came before", async () => {
    const file = path.join(dir, "events.out.tfevents.bad");
    const good = frameRecord(event({ step: 1, values: [simpleValue("lm loss", 3)] }));
    const bad = frameRecord(event({ step: 2, values: [simpleValue("lm loss", 2)] }));
    bad[8] ^= 0xff; // corrupt the length CRC
    fs.writeFileSync(file, concat([good, bad]));
    const r = await cli(["import", "tensorboard", file, "--database", url, "--experts", "8", "--topk", "2", "--layers", "2", "--run-key", "tb-bad"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`error: .*events.out.tfevents.bad: reading stopped at byte ${good.length}: length CRC mismatch`));
    const runRow = await db.prisma.run.findUniqueOrThrow({ where: { runKey: "tb-bad" } });
    const kept = await db.prisma.runScalar.findMany({ where: { runId: runRow.id } });
    expect(kept.map((k) => [k.name, k.step, k.value])).toEqual([["lm loss", 1, 3]]);
  });
});
