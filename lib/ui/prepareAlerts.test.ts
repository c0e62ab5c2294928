import { describe, expect, it } from "vitest";
import type { AlertDto } from "../dto";
import { alertDetail, alertHref, prepareAlertBanner, prepareAlertGroups, prepareAlertHistory } from "./prepareAlerts";
import { formatDuration } from "./formatDuration";

const NOW = Date.parse("2026-11-28T08:30:00.000Z");

function alert(over: Partial<AlertDto>): AlertDto {
  return {
    id: "a1",
    runId: "run-1",
    runName: "dev live run",
    ruleId: "ep-imbalance-high",
    scope: "layer:3",
    layer: 3,
    rank: null,
    severity: "critical",
    status: "firing",
    threshold: 1.3,
    value: 1.76,
    step: 12,
    peakValue: 2.01,
    peakStep: 94,
    lastValue: 1.93,
    lastStep: 147,
    labels: { epRank: 0, edp: 1 },
    message: "dev live run: layer 3: EP rank 0 of dispatch group edp 1 receives 1.76x its group's mean tokens at step 12 (threshold 1.30x)",
    startedAt: "2026-11-28T08:29:00.000Z",
    firedAt: "2026-11-28T08:29:00.000Z",
    resolvedAt: null,
    ...over,
  };
}

describe("formatDuration", () => {
  it.each([
    [950, "0.9 s"],
    [45_000, "45 s"],
    [75_000, "1 min 15 s"],
    [120_000, "2 min"],
    [3_900_000, "1 h 5 min"],
    [-1, "–"],
  ])("%s ms -> %s", (ms, want) => expect(formatDuration(ms)).toBe(want));
});

describe("alertDetail / alertHref", () => {
  it("drops the run name and layer the banner already shows", () => {
    expect(alertDetail(alert({}))).toBe("EP rank 0 of dispatch group edp 1 receives 1.76x its group's mean tokens at step 12 (threshold 1.30x)");
  });
  it("links to the layer and step, scrolled to the advice panel", () => {
    expect(alertHref(alert({}))).toBe("/runs/run-1?layer=3&step=12#advice");
    expect(alertHref(alert({ layer: null, runId: "a b" }))).toBe("/runs/a%20b?step=12#advice");
  });
});

describe("prepareAlertBanner", () => {
  const items = prepareAlertBanner(
    [
      alert({ id: "w", severity: "warning", ruleId: "maxvio-high", firedAt: "2026-11-28T08:29:50.000Z" }),
      alert({ id: "r", status: "resolved", resolvedAt: "2026-11-28T08:29:55.000Z" }),
      alert({ id: "c" }),
    ],
    NOW,
  );
  it("keeps firing alerts only, critical first", () => {
    expect(items.map((i) => i.id)).toEqual(["c", "w"]);
  });
  it("says where, since when and the latest value", () => {
    expect(items[0].where).toBe("layer 3");
    expect(items[0].since).toBe("1 min ago");
    expect(items[1].since).toBe("10 s ago");
    expect(items[0].latest).toBe("now 1.93 at step 147, peak 2.01 at step 94");
  });
});

describe("prepareAlertHistory", () => {
  const rows = prepareAlertHistory(
    [
      alert({ id: "old", status: "resolved", firedAt: "2026-11-28T08:00:00.000Z", resolvedAt: "2026-11-28T08:01:15.000Z" }),
      alert({ id: "new", status: "resolved", firedAt: "2026-11-28T08:10:00.000Z", resolvedAt: "2026-11-28T08:10:45.000Z" }),
      alert({ id: "now", rank: 12, layer: null }),
    ],
    NOW,
  );
  it("puts firing first, then resolved newest first", () => {
    expect(rows.map((r) => r.id)).toEqual(["now", "new", "old"]);
  });
  it("shows peak, resolution and duration", () => {
    expect(rows[0]).toMatchObject({ where: "rank 12", resolved: "firing", duration: "1 min so far", peak: "2.01 @ step 94" });
    expect(rows[2]).toMatchObject({ resolved: "2026-11-28 08:01:15", duration: "1 min 15 s", started: "2026-11-28 08:29:00" });
  });
});

describe("prepareAlertGroups", () => {
  it("shows 64 per-layer alerts of a 32-layer run as one entry per rule, expandable to its layers", () => {
    const alerts: AlertDto[] = [];
    for (let layer = 0; layer < 32; layer++) {
      alerts.push(alert({ id: `ep${layer}`, layer, scope: `layer:${layer}`, threshold: 2, step: 11 + (layer % 3), lastValue: layer === 5 ? 2.38 : 2.1, firedAt: `2026-11-28T08:29:${String(10 + layer).padStart(2, "0")}.000Z` }));
      alerts.push(alert({ id: `mv${layer}`, layer, scope: `layer:${layer}`, ruleId: "maxvio-high", severity: "warning", threshold: 1, value: 1.2, lastValue: 1.3, step: 20 }));
    }
    alerts.push(alert({ id: "old", status: "resolved", resolvedAt: "2026-11-28T08:29:55.000Z" }));
    const groups = prepareAlertGroups(alerts, NOW, () => ({ layers: 32, ranks: 64 }));
    expect(groups.map((g) => [g.ruleId, g.count, g.extent])).toEqual([
      ["ep-imbalance-high", 32, "32 of 32 layers"],
      ["maxvio-high", 32, "32 of 32 layers"],
    ]);
    expect(groups[0].headline).toBe("ep-imbalance-high on 32 of 32 layers, worst layer 5 at 2.38x (threshold 2.00x), since step 11");
    expect(groups[0].since).toBe("50 s ago");
    expect(groups[0].href).toBe("/runs/run-1?layer=5&step=147#advice");
    expect(groups[0].members.map((m) => m.where).slice(0, 3)).toEqual(["layer 0", "layer 1", "layer 2"]);
  });
  it("names the one member of a single-member group", () => {
    const [g] = prepareAlertGroups([alert({ ruleId: "oom", layer: null, rank: 7, scope: "rank:7", value: 1, lastValue: null, threshold: 0 })], NOW);
    expect(g.extent).toBe("rank 7");
    expect(g.headline).toBe("oom on rank 7, since step 12");
  });
});
