import { describe, expect, it } from "vitest";
import type { AlertDto, OomPostMortemDto } from "../dto";
import { prepareGroupTable } from "./prepareGroupTable";
import { prepareMemoryChart } from "./prepareMemoryChart";
import { preparePostMortemAlerts } from "./preparePostMortemAlerts";
import { prepareReceivedVsShare } from "./prepareReceivedVsShare";
import { oomAlertPostMortemHref, postMortemHref } from "./postMortemHref";

const GiB = 1024 ** 3;

const findings = (worstLayer: number | null) =>
  ({
    worst: worstLayer === null ? null : { layer: worstLayer, step: 11, received: 30, mean: 10, ratio: 3, wasGroupWorst: true, groupWorstEpRank: 2, groupWorstRatio: 3 },
    layers: [],
    groupWorstPoints: { top: 0, total: 0 },
    incompletePoints: 0,
    memory: null,
    firstFiringAlert: null,
    alertsFiringAtOom: 0,
    alertsResolvedInWindow: 0,
    windowAlerts: [],
    otherAlertsInWindow: 0,
    missing: [],
  }) satisfies OomPostMortemDto["explanation"]["findings"];

describe("prepareReceivedVsShare", () => {
  const dto = {
    rank: { rank: 13, coords: null, epRank: 2, group: null, experts: null },
    explanation: { text: "", findings: findings(6) },
    received: [
      { layer: 5, points: [{ step: 10, byEpRank: [10, 10, 20, 0], mine: 20, mean: 10, ratio: 2, complete: true }] },
      {
        layer: 6,
        points: [
          { step: 12, byEpRank: [0, 0, 100, 0], mine: 100, mean: 25, ratio: 4, complete: false },
          { step: 11, byEpRank: [5, 5, 30, 0], mine: 30, mean: 10, ratio: 3, complete: true },
        ],
      },
    ],
  } satisfies Pick<OomPostMortemDto, "received" | "rank" | "explanation">;
  const panels = prepareReceivedVsShare(dto);

  it("puts the explanation's worst layer first", () => {
    expect(panels.map((p) => [p.layer, p.worst])).toEqual([
      [6, true],
      [5, false],
    ]);
  });
  it("sorts rows by step, gives the other EP ranks' range, and ignores partial steps for the peak", () => {
    expect(panels[0].rows).toEqual([
      { step: 11, mine: 30, share: 10, others: [0, 5], ratio: 3, complete: true },
      { step: 12, mine: 100, share: 25, others: [0, 0], ratio: 4, complete: false },
    ]);
    expect(panels[0].peak).toEqual({ ratio: 3, step: 11 });
    expect(panels[0].partialSteps).toBe(1);
    expect(panels[0].yMax).toBe(100);
  });
});

describe("prepareMemoryChart", () => {
  const m = prepareMemoryChart({
    event: { id: "e", kind: "oom", rank: 13, step: 12, layer: 6, phase: "forward", message: "", memory: null, createdAt: "" },
    gpuMemoryBytes: 80 * GiB,
    memory: [
      { step: 11, allocatedBytes: 50 * GiB, reservedBytes: 70 * GiB, peakAllocatedBytes: 66 * GiB, numAllocRetries: 0, source: "sample" },
      { step: 12, allocatedBytes: 60 * GiB, reservedBytes: 79 * GiB, peakAllocatedBytes: 78 * GiB, numAllocRetries: 2, source: "oom-event" },
    ],
    groupMemory: [
      { rank: 13, epRank: 2, etpRank: 0, points: [{ step: 11, peakAllocatedBytes: 66 * GiB }] },
      { rank: 12, epRank: 1, etpRank: 0, points: [{ step: 10, peakAllocatedBytes: 40 * GiB }, { step: 11, peakAllocatedBytes: 41 * GiB }] },
      { rank: 14, epRank: 3, etpRank: 0, points: [{ step: 11, peakAllocatedBytes: 45 * GiB }] },
    ],
  });
  it("merges the rank's samples and the rest of the group's peak range by step, in GiB", () => {
    expect(m.rows).toEqual([
      { step: 10, peak: null, allocated: null, reserved: null, group: [40, 40], oom: false },
      { step: 11, peak: 66, allocated: 50, reserved: 70, group: [41, 45], oom: false },
      { step: 12, peak: 78, allocated: 60, reserved: 79, group: null, oom: true },
    ]);
    expect(m.groupRanks).toBe(2);
  });
  it("puts the GPU size inside the y domain", () => {
    expect(m.gpuGiB).toBe(80);
    expect(m.yMax).toBe(84);
  });
  it("has no GPU line when the size is unknown", () => {
    const n = prepareMemoryChart({ event: { id: "e", kind: "oom", rank: 1, step: 1, layer: null, phase: null, message: "", memory: null, createdAt: "" }, gpuMemoryBytes: 0, memory: [], groupMemory: [] });
    expect(n).toEqual({ rows: [], gpuGiB: null, yMax: 0, samples: 0, groupRanks: 0 });
  });
});

describe("prepareGroupTable", () => {
  const row = (rank: number, epRank: number, ratioAtWorst: number | null, dying = false) => ({
    rank, epRank, etpRank: 0, dying, receivedAtWorst: ratioAtWorst === null ? null : ratioAtWorst * 1000, ratioAtWorst,
    maxRatio: ratioAtWorst, meanRatio: ratioAtWorst === null ? null : 1, lastPeakBytes: 2 * GiB, maxPeakBytes: null,
  });
  const rows = prepareGroupTable({ group: [row(14, 2, 3.42, true), row(12, 0, 1.5), row(13, 1, 0.2), row(15, 3, null)] });
  it("orders by EP rank, marks the dying and the busiest rank and grades the ratio", () => {
    expect(rows.map((r) => [r.rank, r.dying, r.busiest, r.level, r.ratioAtWorst])).toEqual([
      [12, false, false, "warn", "1.5×"],
      [13, false, false, "ok", "0.2×"],
      [14, true, true, "danger", "3.42×"],
      [15, false, false, "none", "–"],
    ]);
    expect(rows[2].receivedAtWorst).toBe("3.4k");
    expect(rows[2].lastPeak).toBe("2.0 GiB");
    expect(rows[2].maxPeak).toBe("–");
  });
});

describe("preparePostMortemAlerts", () => {
  const base: AlertDto = {
    id: "a", runId: "r", runName: "n", ruleId: "ep-imbalance-high", scope: "layer:6", layer: 6, rank: null, severity: "critical", status: "resolved",
    threshold: 2, value: 2.345, step: 60, peakValue: 3, peakStep: 70, lastValue: 1, lastStep: 80, labels: {}, message: "m",
    startedAt: "", firedAt: "", resolvedAt: null,
  };
  const items = preparePostMortemAlerts({
    alerts: [
      { ...base, id: "x", ruleId: "maxvio-high", layer: 3, scope: "layer:3", step: 10, endStep: 20, relevant: false },
      { ...base, id: "y", step: 60, endStep: null, relevant: true },
      { ...base, id: "z", ruleId: "memory-headroom-low", layer: null, rank: 13, scope: "rank:13", step: 50, endStep: 55, relevant: true },
    ],
  });
  it("lists relevant alerts first by firing step and says whether each was firing at the OOM", () => {
    expect(items.map((i) => [i.id, i.where, i.fired, i.state])).toEqual([
      ["z", "rank 13", "fired at step 50 (value 2.35)", "resolved by step 55"],
      ["y", "layer 6", "fired at step 60 (value 2.35)", "still firing at the OOM"],
      ["x", "layer 3", "fired at step 10 (value 2.35)", "resolved by step 20"],
    ]);
  });
});

describe("postMortemHref", () => {
  it("links an OOM event and an oom alert", () => {
    expect(postMortemHref("run 1", "e/1")).toBe("/runs/run%201/oom/e%2F1");
    expect(oomAlertPostMortemHref({ ruleId: "oom", runId: "r", rank: 5, step: 212 })).toBe("/runs/r/oom?rank=5&step=212");
    expect(oomAlertPostMortemHref({ ruleId: "ep-imbalance-high", runId: "r", rank: null, step: 1 })).toBeNull();
  });
});
