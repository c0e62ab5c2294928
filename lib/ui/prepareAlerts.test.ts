import { describe, expect, it } from "vitest";
import type { AlertDto } from "../dto";
import { alertDetail, alertHref, prepareAlertBanner, prepareAlertHistory } from "./prepareAlerts";
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
