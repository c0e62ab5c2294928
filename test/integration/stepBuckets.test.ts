/**
 * The run page's series over steps against a brute-force computation on the same stored aggregates:
 * the experts x steps heatmap (each expert's max per bucket), the imbalance heatmap (worst value per
 * bucket: max, or min for entropy) and the loss series (mean, min, max), whether a bucket comes from the
 * stored 64-step rollups, from raw aggregates (partial edges, the open block) or both; and a late change
 * to a closed block reaching the views after the collector's post-flush rollup refresh; the SQLite read
 * path of the experts x steps heatmap against the generic one, and its cache against another connection's
 * commit, and the heatmap route's ETag revalidation; and the rollups a real collector builds while a simulated run streams through it.
 * Buckets of 512 or 1,024 steps (1 or 2 columns over 700 steps) read the coarse 512-step level
 * (LayerRollupCoarse, steps 0..511) for the whole coarse block and the 64-step level or raw rows for the rest.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { packCounts } from "../../lib/store/packCounts";
import { createSimulation } from "../../lib/sim/createSimulation";
import type { Db } from "../../lib/store/db";
import Database from "better-sqlite3";
import * as expertsRoute from "../../app/api/runs/[runId]/heatmap/experts/route";
import type { ExpertHeatmapDto } from "../../lib/dto";
import { readExpertHeatmapSqlite, type ExpertHeatmapOptions } from "../../lib/web/data/expertHeatmapSqlite";
import { expertHeatmapGeneric, getExpertHeatmap, getImbalanceHeatmap, getLossSeries, getScalarSeries } from "../../lib/web/data/queries";
import { blockOf, refreshRollupsAfterFlush } from "../../lib/store/rollups";
import type { MetricColumn } from "../../lib/store/bucketStats";
import { readStepBuckets } from "../../lib/web/data/stepBuckets";
import { registerRun, type RunRecord } from "../../lib/store/runsRepo";
import { getDb } from "../../lib/web/data/webDb";
import { simulateRun } from "../../cli/runSimulate";
import { unpackCounts } from "../../lib/store/packCounts";
import { startCollector, tempDatabaseUrl, TEST_DIALECT } from "./harness";

const STEPS = 700;
const E = 8;
let db: Db;
let run: RunRecord;

interface Agg {
  layer: number;
  step: number;
  load: number[];
  maxVio: number;
  entropy: number;
  lb: number;
}
const aggs: Agg[] = [];

/** Packed counts as Prisma's Bytes type wants them (an ArrayBuffer-backed Uint8Array). */
const bytes = (xs: number[]) => new Uint8Array(packCounts(xs));

// Deterministic pseudo-random values with planted one-step extremes.
function value(step: number, layer: number, salt: number): number {
  const x = Math.sin(step * 12.9898 + layer * 78.233 + salt * 37.719) * 43758.5453;
  return x - Math.floor(x);
}

beforeAll(async () => {
  process.env.DATABASE_URL = tempDatabaseUrl();
  db = await getDb();
  const sim = createSimulation({ ranks: 2, steps: STEPS, scenario: "balanced", numExperts: E, numLayers: 3, ep: 2, pp: 1 });
  ({ run } = await registerRun(db, {
    runKey: "buckets", name: "buckets", config: sim.config, worldSize: sim.worldSize, gpusPerNode: 8, gpuMemoryBytes: 80e9,
    framework: "megatron-core", frameworkVersion: "0.14", simulated: true, commandLine: [],
  }));
  for (let step = 1; step <= STEPS; step++) {
    for (const layer of run.moeLayers) {
      const load = Array.from({ length: E }, (_, e) => Math.round(100 + 50 * value(step, layer, e)));
      let maxVio = value(step, layer, 100);
      let entropy = 0.9 + 0.1 * value(step, layer, 101);
      // Planted spikes: a hot expert, a MaxVio spike and an entropy dip at single steps.
      if (step === 300 && layer === run.moeLayers[1]) load[3] = 5000;
      if (step === 129) maxVio = 9;
      if (step === 641) entropy = 0.1;
      aggs.push({ layer, step, load, maxVio, entropy, lb: 1 + value(step, layer, 102) });
    }
  }
  for (let i = 0; i < aggs.length; i += 500) {
    await db.prisma.layerAggregate.createMany({
      data: aggs.slice(i, i + 500).map((a) => ({
        runId: run.id, layer: a.layer, step: a.step, ranksReported: 2, ranksExpected: 2, tokens: BigInt(1000), load: bytes(a.load),
        maxVio: a.maxVio, cv: 0.1, entropy: a.entropy, deadExperts: 0, loadBalancingLoss: a.lb, zLoss: 10,
      })),
    });
  }
});

afterAll(async () => {
  await db?.close();
});

/** Brute force: rows of one layer grouped by floor(step / size) within [from, to]. */
function groups(layer: number | null, from: number, to: number, size: number): Map<number, Agg[]> {
  const out = new Map<number, Agg[]>();
  for (const a of aggs) {
    if ((layer !== null && a.layer !== layer) || a.step < from || a.step > to) continue;
    const b = Math.floor(a.step / size);
    let list = out.get(b);
    if (!list) out.set(b, (list = []));
    list.push(a);
  }
  return out;
}

describe("experts x steps heatmap", () => {
  const ranges: Array<{ name: string; from?: number; to?: number; maxColumns: number }> = [
    { name: "all steps, rollup-sized buckets", maxColumns: 5 },
    { name: "partial edges around rolled-up blocks", from: 37, to: 650, maxColumns: 4 },
    { name: "every step (raw)", maxColumns: 1000 },
    { name: "small buckets below a block", from: 250, to: 350, maxColumns: 10 },
    { name: "one 1,024-step bucket: the coarse block, 64-step blocks and the open block", maxColumns: 1 },
    { name: "512-step buckets: the coarse block, then 64-step blocks and raw rows", maxColumns: 2 },
    { name: "512-step buckets from a partial first block (no whole coarse block)", from: 37, maxColumns: 2 },
  ];
  for (const r of ranges) {
    it(`keeps each expert's max per bucket: ${r.name}`, async () => {
      const layer = run.moeLayers[1];
      const dto = await getExpertHeatmap(run.id, layer, { fromStep: r.from, toStep: r.to, maxColumns: r.maxColumns });
      expect(dto).not.toBeNull();
      const from = r.from ?? 1;
      const to = r.to ?? STEPS;
      const want = [...groups(layer, from, to, dto!.bucketSize).values()].map((list) => ({
        step: Math.min(...list.map((a) => a.step)),
        load: Array.from({ length: E }, (_, e) => Math.max(...list.map((a) => a.load[e]))),
      }));
      expect(dto!.columns).toEqual(want);
      // The planted hot expert is in exactly one column, at its full value.
      if (from <= 300 && to >= 300) expect(dto!.columns.filter((c) => c.load[3] === 5000)).toHaveLength(1);
    });
  }
});

describe("experts x steps heatmap, SQLite read path (better-sqlite3, cached)", () => {
  const sqlite = () => db.sqlite();
  const cases: ExpertHeatmapOptions[] = [
    { maxColumns: 5 },
    { fromStep: 37, toStep: 650, maxColumns: 4 },
    { fromStep: 64, toStep: 639, maxColumns: 3 },
    { maxColumns: 1000 },
    { fromStep: 250, toStep: 350, maxColumns: 10 },
    { fromStep: 690, maxColumns: 2 },
    { maxColumns: 1 },
    { maxColumns: 2 },
  ];

  it.skipIf(TEST_DIALECT !== "sqlite")("answers exactly what the generic path answers, and leaves missing rollups to it", async () => {
    const conn = sqlite()!;
    const layer = run.moeLayers[2];
    // Without rollups the SQLite path declines a range with closed blocks; the generic path builds them.
    await db.prisma.layerRollup.deleteMany({ where: { runId: run.id } });
    expect(readExpertHeatmapSqlite(conn, run.id, layer, { maxColumns: 5 })).toBeUndefined();
    expect(readExpertHeatmapSqlite(conn, run.id, layer, { maxColumns: 1000 })).toEqual(await expertHeatmapGeneric(db, run.id, layer, { maxColumns: 1000 }));
    await expertHeatmapGeneric(db, run.id, layer, { maxColumns: 5 });
    for (const opts of cases) {
      const fast = readExpertHeatmapSqlite(conn, run.id, layer, opts);
      expect(fast, JSON.stringify(opts)).toBeDefined();
      expect(fast, JSON.stringify(opts)).toEqual(await expertHeatmapGeneric(db, run.id, layer, opts));
    }
    // Without the coarse level it declines 512-step columns too, and answers the same once the generic path filled it.
    await db.prisma.layerRollupCoarse.deleteMany({ where: { runId: run.id } });
    expect(readExpertHeatmapSqlite(conn, run.id, layer, { maxColumns: 2 })).toBeUndefined();
    const generic = await expertHeatmapGeneric(db, run.id, layer, { maxColumns: 2 });
    expect(generic!.bucketSize).toBe(512);
    expect(readExpertHeatmapSqlite(conn, run.id, layer, { maxColumns: 2 })).toEqual(generic);
    expect(readExpertHeatmapSqlite(conn, run.id, 99, {})).toBeNull();
    expect(readExpertHeatmapSqlite(conn, "no-such-run", layer, {})).toBeNull();
  });

  it.skipIf(TEST_DIALECT !== "sqlite")("a cached answer is replaced once another connection commits a change", async () => {
    const layer = run.moeLayers[2];
    const before = (await getExpertHeatmap(run.id, layer, { maxColumns: 1000 }))!;
    expect(await getExpertHeatmap(run.id, layer, { maxColumns: 1000 })).toBe(before); // served from the cache
    const a = aggs.find((x) => x.layer === layer && x.step === 420)!;
    a.load = a.load.map((v, e) => (e === 6 ? 6666 : v));
    const other = new Database(process.env.DATABASE_URL!.slice("file:".length));
    try {
      other.prepare(`UPDATE "LayerAggregate" SET "load" = ? WHERE "runId" = ? AND "layer" = ? AND "step" = ?`).run(Buffer.from(packCounts(a.load)), run.id, layer, 420);
    } finally {
      other.close();
    }
    const after = (await getExpertHeatmap(run.id, layer, { maxColumns: 1000 }))!;
    expect(after.columns.find((c) => c.step === 420)!.load[6]).toBe(6666);
    expect(before.columns.find((c) => c.step === 420)!.load[6]).not.toBe(6666);
    // Leave the stored rollups matching the aggregates for the tests after this one.
    await refreshRollupsAfterFlush(db, [{ run, aggregate: { step: 420, layer } as never }]);
  });
});

describe("experts x steps heatmap cache bound", () => {
  it.skipIf(TEST_DIALECT !== "sqlite")("keeps the 64 most recently used answers and drops older ones", async () => {
    const layer = run.moeLayers[0];
    const first = await getExpertHeatmap(run.id, layer, { maxColumns: 7 });
    expect(await getExpertHeatmap(run.id, layer, { maxColumns: 7 })).toBe(first);
    for (let c = 100; c < 164; c++) await getExpertHeatmap(run.id, layer, { maxColumns: c });
    const again = await getExpertHeatmap(run.id, layer, { maxColumns: 7 });
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});

describe("step buckets cache (SQLite)", () => {
  it.skipIf(TEST_DIALECT !== "sqlite")("answers a repeated query from the cache until another connection commits a change", async () => {
    const layer = run.moeLayers[1];
    const query = { runId: run.id, moeLayers: run.moeLayers, layers: [layer], fromStep: 1, toStep: STEPS, firstStoredStep: 1, bucketSize: 128, metrics: ["maxVio"] as MetricColumn[] };
    const before = await readStepBuckets(db, query);
    expect(await readStepBuckets(db, query)).toBe(before);
    const a = aggs.find((x) => x.layer === layer && x.step === 200)!;
    const other = new Database(process.env.DATABASE_URL!.slice("file:".length));
    try {
      other.prepare(`UPDATE "LayerAggregate" SET "maxVio" = ? WHERE "runId" = ? AND "layer" = ? AND "step" = ?`).run(77, run.id, layer, 200);
      // The 64-step rollup holding step 200 follows its aggregates, as the collector's flush would do it.
      await refreshRollupsAfterFlush(db, [{ run, aggregate: { step: 200, layer } as never }]);
      const after = await readStepBuckets(db, query);
      expect(after).not.toBe(before);
      expect(after.find((b) => b.bucket === 1)!.metrics.maxVio!.max).toBe(77);
      expect(before.find((b) => b.bucket === 1)!.metrics.maxVio!.max).not.toBe(77);
    } finally {
      other.prepare(`UPDATE "LayerAggregate" SET "maxVio" = ? WHERE "runId" = ? AND "layer" = ? AND "step" = ?`).run(a.maxVio, run.id, layer, 200);
      other.close();
      await refreshRollupsAfterFlush(db, [{ run, aggregate: { step: 200, layer } as never }]);
    }
  });
});

describe("GET /api/runs/{runId}/heatmap/experts", () => {
  const get = (query: string, headers: Record<string, string> = {}) =>
    expertsRoute.GET(new Request(`http://localhost/api/runs/${run.id}/heatmap/experts?${query}`, { headers }), { params: Promise.resolve({ runId: run.id }) });

  it("answers the heatmap with an ETag, 304 while it is unchanged, a new body once the data changes", async () => {
    const layer = run.moeLayers[0];
    const first = await get(`layer=${layer}&maxColumns=1000`);
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("no-cache");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"[\w-]+"$/);
    expect(await first.json()).toEqual(JSON.parse(JSON.stringify(await getExpertHeatmap(run.id, layer, { maxColumns: 1000 }))));
    const again = await get(`layer=${layer}&maxColumns=1000`, { "if-none-match": `W/"other", ${etag.slice(2)}` });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const a = aggs.find((x) => x.layer === layer && x.step === 555)!;
    a.load = a.load.map((v, e) => (e === 1 ? 5555 : v));
    await db.prisma.layerAggregate.update({ where: { runId_layer_step: { runId: run.id, layer, step: 555 } }, data: { load: bytes(a.load) } });
    await refreshRollupsAfterFlush(db, [{ run, aggregate: { step: 555, layer } as never }]);
    const changed = await get(`layer=${layer}&maxColumns=1000`, { "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(((await changed.json()) as ExpertHeatmapDto).columns.find((c) => c.step === 555)!.load[1]).toBe(5555);
  });

  it("names an unknown layer and a bad parameter", async () => {
    const missing = await get("layer=99");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/layer 99 is not one of its MoE layers/);
    expect((await get("layer=x")).status).toBe(400);
  });
});

describe("imbalance heatmap and loss series", () => {
  for (const maxColumns of [1, 2, 5, 9, 1000]) {
    it(`worst value per bucket (max MaxVio, min entropy), ${maxColumns} columns`, async () => {
      for (const metric of ["maxVio", "entropy"] as const) {
        const dto = (await getImbalanceHeatmap(run.id, metric, { maxColumns }))!;
        const g = groups(null, 1, STEPS, dto.bucketSize);
        expect(dto.steps).toEqual([...g.keys()].map((b) => Math.max(1, b * dto.bucketSize)));
        dto.layers.forEach((layer, li) => {
          const want = [...g.values()].map((list) => {
            const vs = list.filter((a) => a.layer === layer).map((a) => a[metric]);
            return metric === "entropy" ? Math.min(...vs) : Math.max(...vs);
          });
          expect(dto.values[li]).toEqual(want);
        });
      }
      const vio = (await getImbalanceHeatmap(run.id, "maxVio", { maxColumns }))!;
      expect(vio.values.flat().filter((v) => v === 9)).toHaveLength(run.moeLayers.length);
    });

    it(`loss mean, min and max per bucket, ${maxColumns} points`, async () => {
      const dto = (await getLossSeries(run.id, { maxPoints: maxColumns }))!;
      const lb = dto.series.filter((s) => s.loss === "load_balancing_loss");
      expect(lb.map((s) => s.layer)).toEqual(run.moeLayers);
      for (const s of lb) {
        const want = [...groups(s.layer, 1, STEPS, dto.bucketSize).values()].map((list) => ({
          step: Math.min(...list.map((a) => a.step)),
          mean: list.reduce((t, a) => t + a.lb, 0) / list.length,
          min: Math.min(...list.map((a) => a.lb)),
          max: Math.max(...list.map((a) => a.lb)),
        }));
        expect(s.points.map((p) => p.step)).toEqual(want.map((w) => w.step));
        s.points.forEach((p, i) => {
          expect(p.value).toBeCloseTo(want[i].mean, 9);
          expect(p.min).toBe(want[i].min);
          expect(p.max).toBe(want[i].max);
        });
      }
    });
  }
});

describe("loss series of chosen losses", () => {
  it("reads only the losses asked for, each equal to its series in the full read", async () => {
    for (const maxPoints of [2, 9, 1000]) {
      const all = (await getLossSeries(run.id, { maxPoints }))!;
      const some = (await getLossSeries(run.id, { maxPoints, losses: ["z_loss", "load_balancing_loss"] }))!;
      expect(new Set(all.series.map((s) => s.loss)).size).toBeGreaterThan(1);
      expect(some.series.length).toBeGreaterThan(0);
      expect(some).toEqual({ ...all, series: all.series.filter((s) => s.loss === "z_loss" || s.loss === "load_balancing_loss") });
    }
  });
});

describe("run-level loss series of a live run (issue 17 item 7)", () => {
  it("is Megatron's per-step mean over the MoE layers, under the names an imported log uses, beside imported series", async () => {
    // An imported series on the same run (as `import` stores them): both appear in one DTO.
    await db.prisma.runScalar.createMany({ data: [1, 2, 3].map((step) => ({ runId: run.id, name: "lm loss", layer: 0, step, value: 11 - step })) });
    const one = (await getScalarSeries(run.id, { maxPoints: 1000 }))!;
    expect(one.bucketSize).toBe(1);
    expect(one.series.map((s) => `${s.name}@${s.layer}`)).toEqual(["lm loss@0", "load_balancing_loss@0", "z_loss@0"]);
    const lb = one.series.find((s) => s.name === "load_balancing_loss")!;
    expect(lb.points).toHaveLength(STEPS);
    for (const p of lb.points) {
      const atStep = aggs.filter((a) => a.step === p.step);
      const mean = atStep.reduce((t, a) => t + a.lb, 0) / atStep.length;
      expect(atStep).toHaveLength(run.moeLayers.length);
      expect(p.value).toBeCloseTo(mean, 12);
      expect(p.min).toBeCloseTo(mean, 12);
      expect(p.max).toBeCloseTo(mean, 12);
    }
    expect(one.series.find((s) => s.name === "z_loss")!.points.every((p) => p.value === 10)).toBe(true);
    expect(one.series.find((s) => s.name === "lm loss")!.points.map((p) => p.value)).toEqual([10, 9, 8]);

    // Downsampled (64-step buckets from the stored rollups): the mean of the per-step means, and a band that
    // encloses every per-step mean of the bucket.
    const few = (await getScalarSeries(run.id, { maxPoints: 9, names: ["load_balancing_loss"] }))!;
    expect(few.bucketSize % 64).toBe(0);
    expect(few.series.map((s) => s.name)).toEqual(["load_balancing_loss"]);
    for (const p of few.series[0].points) {
      const b = Math.floor(p.step / few.bucketSize);
      const steps = [...new Set(aggs.filter((a) => Math.floor(a.step / few.bucketSize) === b).map((a) => a.step))];
      const means = steps.map((st) => {
        const at = aggs.filter((a) => a.step === st);
        return at.reduce((t, a) => t + a.lb, 0) / at.length;
      });
      expect(p.step).toBe(Math.min(...steps));
      expect(p.value).toBeCloseTo(means.reduce((t, m) => t + m, 0) / means.length, 9);
      expect(p.min).toBeLessThanOrEqual(Math.min(...means) + 1e-12);
      expect(p.max).toBeGreaterThanOrEqual(Math.max(...means) - 1e-12);
    }
    await db.prisma.runScalar.deleteMany({ where: { runId: run.id } });
  });
});

describe("rollups", () => {
  it("stores every closed block, not the open one", async () => {
    await getExpertHeatmap(run.id, run.moeLayers[0], { maxColumns: 5 });
    const rows = await db.prisma.layerRollup.findMany({ where: { runId: run.id, layer: run.moeLayers[0] }, orderBy: { bucket: "asc" } });
    // Steps 1..700: blocks 0..10; block 10 (640..703) holds the newest step and stays open.
    expect(rows.map((r) => r.bucket)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rows.map((r) => r.steps)).toEqual([63, 64, 64, 64, 64, 64, 64, 64, 64, 64]);
  });

  it("a late change to a closed block reaches the heatmap after the post-flush refresh", async () => {
    const layer = run.moeLayers[0];
    const a = aggs.find((x) => x.layer === layer && x.step === 200)!;
    a.load = a.load.map((v, e) => (e === 5 ? 7777 : v));
    await db.prisma.layerAggregate.update({ where: { runId_layer_step: { runId: run.id, layer, step: 200 } }, data: { load: bytes(a.load) } });
    // What the collector calls after committing a flush that refreshed this aggregate.
    await refreshRollupsAfterFlush(db, [{ run, aggregate: { step: 200, layer } as never }]);
    const dto = (await getExpertHeatmap(run.id, layer, { maxColumns: 5 }))!;
    expect(dto.columns.filter((c) => c.load[5] === 7777)).toHaveLength(1);
    // The same change reaches a view that reads the rebuilt coarse block (one 1,024-step column).
    const coarse = (await getExpertHeatmap(run.id, layer, { maxColumns: 1 }))!;
    expect(coarse.bucketSize).toBe(1024);
    expect(coarse.columns).toHaveLength(1);
    expect(coarse.columns[0].load[5]).toBe(7777);
  });

  it("keeps a coarse block equal to the merge of its eight 64-step blocks, and only once all eight exist", async () => {
    await getLossSeries(run.id, { maxPoints: 1 });
    const coarse = await db.prisma.layerRollupCoarse.findMany({ where: { runId: run.id }, orderBy: [{ layer: "asc" }, { bucket: "asc" }] });
    // Steps 1..700: coarse block 0 (0..511) is closed; block 1 (512..1023) holds the open 64-step block.
    expect(coarse.map((r) => [r.layer, r.bucket])).toEqual(run.moeLayers.map((l) => [l, 0]));
    for (const row of coarse) {
      const mine = aggs.filter((a) => a.layer === row.layer && a.step <= 511);
      expect(row.steps).toBe(mine.length);
      expect([row.firstStep, row.lastStep]).toEqual([1, 511]);
      expect(row.maxVioMax).toBe(Math.max(...mine.map((a) => a.maxVio)));
      expect(row.maxVioMin).toBe(Math.min(...mine.map((a) => a.maxVio)));
      expect(row.entropyMin).toBe(Math.min(...mine.map((a) => a.entropy)));
      expect(row.loadBalancingLossSum).toBeCloseTo(mine.reduce((t, a) => t + a.lb, 0), 9);
      expect(unpackCounts(row.loadMax)).toEqual(Array.from({ length: E }, (_, e) => Math.max(...mine.map((a) => a.load[e]))));
      expect(unpackCounts(row.loadMin)).toEqual(Array.from({ length: E }, (_, e) => Math.min(...mine.map((a) => a.load[e]))));
    }
    // With one of its 64-step blocks missing, rebuilding the others does not write the coarse block;
    // a view then refills the missing block and the coarse block from it.
    await db.prisma.layerRollupCoarse.deleteMany({ where: { runId: run.id } });
    await db.prisma.layerRollup.deleteMany({ where: { runId: run.id, bucket: 5 } });
    await refreshRollupsAfterFlush(db, [{ run, aggregate: { step: 200, layer: run.moeLayers[0] } as never }]);
    expect(await db.prisma.layerRollupCoarse.count({ where: { runId: run.id } })).toBe(0);
    const vio = (await getImbalanceHeatmap(run.id, "maxVio", { maxColumns: 2 }))!;
    expect(vio.bucketSize).toBe(512);
    expect(vio.values.flat().filter((v) => v === 9)).toHaveLength(run.moeLayers.length);
    expect(await db.prisma.layerRollupCoarse.count({ where: { runId: run.id } })).toBe(run.moeLayers.length);
    expect(await db.prisma.layerRollup.count({ where: { runId: run.id, bucket: 5 } })).toBe(run.moeLayers.length);
    // The collector's post-flush refresh of a closed 64-step block writes the coarse block holding it.
    await db.prisma.layerRollupCoarse.deleteMany({ where: { runId: run.id } });
    await refreshRollupsAfterFlush(db, [{ run, aggregate: { step: 500, layer: run.moeLayers[0] } as never }]);
    expect(await db.prisma.layerRollupCoarse.count({ where: { runId: run.id } })).toBe(run.moeLayers.length);
  });
});

describe("rollups maintained by the collector", () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => stop?.());

  it("rolls up each block the stream closes, equal to a fold of the stored aggregates", async () => {
    const c = await startCollector(tempDatabaseUrl());
    stop = c.stop;
    const s = await simulateRun({
      ranks: 8, experts: 8, topk: 2, layers: 4, ep: 4, pp: 2, tp: 1, cp: 1, seed: 5, stepIntervalMs: 0,
      collector: c.address, steps: 200, scenario: "early-imbalance", runKey: "rollup-live",
    });
    expect(s.rejected).toBe(0);
    const r = await c.db.prisma.run.findUniqueOrThrow({ where: { runKey: "rollup-live" } });
    const moe = JSON.parse(r.moeLayers) as number[];
    // Rollups are refreshed after the flush's commit, not awaited by it: wait for the last closed block.
    const deadline = Date.now() + 30_000;
    let rows = await c.db.prisma.layerRollup.findMany({ where: { runId: r.id } });
    while (rows.filter((x) => x.bucket === blockOf(200) - 1).length < moe.length && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      rows = await c.db.prisma.layerRollup.findMany({ where: { runId: r.id } });
    }
    // Steps 1..200: blocks 0, 1, 2 closed; block 3 (192..255) holds the newest step and stays open.
    expect([...new Set(rows.map((x) => x.bucket))].sort()).toEqual([0, 1, 2]);
    const aggs = await c.db.prisma.layerAggregate.findMany({ where: { runId: r.id, step: { lte: 191 } } });
    for (const row of rows) {
      const mine = aggs.filter((a) => a.layer === row.layer && blockOf(a.step) === row.bucket);
      expect(row.steps).toBe(mine.length);
      expect(row.maxVioMax).toBe(Math.max(...mine.map((a) => a.maxVio!)));
      expect(row.maxVioMin).toBe(Math.min(...mine.map((a) => a.maxVio!)));
      const loads = mine.map((a) => unpackCounts(a.load));
      expect(unpackCounts(row.loadMax)).toEqual(loads[0].map((_, e) => Math.max(...loads.map((l) => l[e]))));
      expect(unpackCounts(row.loadMin)).toEqual(loads[0].map((_, e) => Math.min(...loads.map((l) => l[e]))));
    }
  });
});
