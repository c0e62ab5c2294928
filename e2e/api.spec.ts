/**
 * The HTTP API as a launcher or script meets it: every documented route answers JSON for a finished
 * simulated run, and bad input gets a 4xx that names the parameter.
 */
import { expect, test, uniqueRunKey } from "./fixtures";

test("serves every documented route for a run, and names bad parameters", async ({ request, simulate }) => {
  const runKey = uniqueRunKey("api");
  const sim = simulate({ runKey, ranks: 16, steps: 40, stepIntervalMs: 0, extra: ["--ep", "4", "--pp", "2", "--layers", "8"] });
  await sim.exited;

  const runs = await (await request.get("/api/runs")).json();
  const run = runs.find((r: { runKey: string }) => r.runKey === runKey);
  expect(run).toMatchObject({ simulated: true, status: "finished", lastStep: 40, worldSize: 16, numExperts: 8 });
  const id = run.id as string;

  const detail = await (await request.get(`/api/runs/${id}`)).json();
  expect(detail.moeLayers).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(detail.derived).toEqual({ dp: 8, edp: 2, etp: 1 });

  const losses = await (await request.get(`/api/runs/${id}/losses?layers=2&maxPoints=10`)).json();
  // Buckets are aligned to step 0: steps 1-40 in at most 10 take 5 steps each (0-4, ..., 40-44), 9 buckets.
  expect(losses.bucketSize).toBe(5);
  const aux = losses.series.find((s: { loss: string }) => s.loss === "load_balancing_loss");
  expect(aux.points).toHaveLength(9);
  for (const p of aux.points) expect(p.min).toBeLessThanOrEqual(p.value);

  const heat = await (await request.get(`/api/runs/${id}/heatmap/layers?step=40`)).json();
  expect(heat.rows).toHaveLength(8);
  expect(heat.rows[0].load).toHaveLength(8);
  const experts = await (await request.get(`/api/runs/${id}/heatmap/experts?layer=3&maxColumns=20`)).json();
  // At most 20 columns: 2-step buckets aligned to step 0 would need 21 (0-1, ..., 40-41), so 3 steps each.
  expect(experts.columns).toHaveLength(14);
  expect(experts.columns[0].step).toBe(1);

  const aggs = await (await request.get(`/api/runs/${id}/aggregates?step=40`)).json();
  const metrics = await (await request.get(`/api/runs/${id}/metrics?step=40`)).json();
  expect(metrics.layers.map((l: { layer: number }) => l.layer)).toEqual(aggs.map((a: { layer: number }) => a.layer));
  expect(metrics.layers[0].rule).toBe("all ranks (TP=1)");

  const imbalance = await (await request.get(`/api/runs/${id}/imbalance?metric=epImbalance`)).json();
  expect(imbalance.layers).toHaveLength(8);
  expect(imbalance.summary.length).toBe(imbalance.steps.length);

  const ep = await (await request.get(`/api/runs/${id}/ep-load?step=40&layer=3`)).json();
  expect(ep.ep).toBe(4);
  expect(ep.groups).toHaveLength(2); // EDP 2 groups on the stage holding layer 3
  const cap = await (await request.get(`/api/runs/${id}/capacity?cf=1.0&step=40`)).json();
  expect(cap.layers).toHaveLength(8);
  for (const l of cap.layers) expect(l.dropFraction).toBeGreaterThanOrEqual(0);
  // Capacity is per source rank: every layer lists its ranks' C and drops, summing to the layer's drops.
  for (const l of cap.layers) {
    expect(l.perRank.length).toBeGreaterThan(0);
    expect(l.perRank.reduce((n: number, r: { dropped: number }) => n + r.dropped, 0)).toBe(l.dropped);
  }

  const advice = await request.get(`/api/runs/${id}/advice`);
  expect(advice.ok()).toBe(true);
  expect(Array.isArray((await advice.json()).suggestions)).toBe(true);
  expect((await request.get(`/api/runs/${id}/events`)).ok()).toBe(true);
  expect((await request.get(`/api/runs/${id}/alerts`)).ok()).toBe(true);

  const openapi = await (await request.get("/api/openapi.json")).json();
  for (const path of ["/api/runs", "/api/runs/{runId}/losses", "/api/runs/{runId}/advice", "/api/runs/{runId}/capacity", "/metrics"]) {
    expect(openapi.paths[path].get.summary).toMatch(/\w{3}/);
  }
  const metricsText = await (await request.get("/metrics")).text();
  expect(metricsText).toContain("moe_run_last_step");

  // Bad input: 400 naming the parameter, 404 naming the run.
  const bad = await request.get(`/api/runs/${id}/capacity?cf=-1`);
  expect(bad.status()).toBe(400);
  expect(await bad.json()).toMatchObject({ field: "cf" });
  const badLayers = await request.get(`/api/runs/${id}/losses?layers=a,b`);
  expect(badLayers.status()).toBe(400);
  expect((await badLayers.json()).error).toMatch(/layers/);
  const unknown = await request.get("/api/runs/no-such-run/losses");
  expect(unknown.status()).toBe(404);
  expect((await unknown.json()).error).toMatch(/no-such-run/);
  const denseLayer = await request.get(`/api/runs/${id}/ep-load?step=40&layer=99`);
  expect(denseLayer.status()).toBe(404);
  const badRules = await request.put("/api/alert-rules", { data: { "maxvio-high": { threshold: "high" } } });
  expect(badRules.status()).toBe(400);
  expect(await badRules.json()).toMatchObject({ field: "maxvio-high.threshold" });
});
