import { describe, expect, it } from "vitest";
import { explainOom, type OomAlertInput, type OomExplainInput } from "./explainOom";

const GiB = 1024 ** 3;

const alert = (a: Partial<OomAlertInput> & Pick<OomAlertInput, "ruleId" | "step">): OomAlertInput => ({
  scope: a.layer != null ? `layer:${a.layer}` : a.rank != null ? `rank:${a.rank}` : "run",
  layer: null,
  rank: null,
  severity: "critical",
  status: "firing",
  value: 1,
  endStep: null,
  ...a,
});

// EP 4; the dying rank 13 is EP rank 2 of group 3 (edp 1, pp 1); its stage holds MoE layers 5 and 6.
const full: OomExplainInput = {
  rank: 13,
  epRank: 2,
  group: { index: 3, edp: 1, pp: 1 },
  oomStep: 12,
  oomLayer: 6,
  phase: "forward",
  window: { from: 10, to: 12 },
  stageLayers: [5, 6],
  gpuMemoryBytes: 80 * GiB,
  received: [
    // mean 10, mine 20: 2.0x, busiest
    { step: 10, layer: 5, byEpRank: [10, 10, 20, 0], complete: true },
    // all equal: 1.0x, a tie counts as busiest
    { step: 10, layer: 6, byEpRank: [10, 10, 10, 10], complete: true },
    // mean 10, mine 30: 3.0x, the worst
    { step: 11, layer: 6, byEpRank: [5, 5, 30, 0], complete: true },
    // mean 20, mine 30: 1.5x; EP rank 0 is busier (2.0x)
    { step: 12, layer: 6, byEpRank: [40, 0, 30, 10], complete: true },
    // partial group: left out even though it would be 4x
    { step: 12, layer: 5, byEpRank: [0, 0, 100, 0], complete: false },
    // outside the window and outside the stage: ignored
    { step: 9, layer: 6, byEpRank: [0, 0, 1000, 0], complete: true },
    { step: 11, layer: 3, byEpRank: [0, 0, 1000, 0], complete: true },
  ],
  memory: [
    { step: 12, peakAllocatedBytes: 68 * GiB },
    { step: 10, peakAllocatedBytes: 60 * GiB },
    { step: 11, peakAllocatedBytes: 66 * GiB },
    { step: 3, peakAllocatedBytes: 1 * GiB },
  ],
  alerts: [
    alert({ ruleId: "ep-imbalance-high", layer: 6, step: 8, value: 2.4 }),
    alert({ ruleId: "memory-headroom-low", rank: 13, step: 10, status: "resolved", endStep: 11 }),
    alert({ ruleId: "maxvio-high", layer: 3, step: 5, severity: "warning" }),
    alert({ ruleId: "oom", rank: 13, step: 12 }),
    alert({ ruleId: "aux-loss-high", layer: 5, step: 11, severity: "warning" }),
    alert({ ruleId: "ep-imbalance-high", layer: 5, step: 13 }),
  ],
};

describe("explainOom", () => {
  const cases: Array<{ name: string; input: OomExplainInput; check: (r: ReturnType<typeof explainOom>) => void }> = [
    {
      name: "full data: worst layer, ratio to the group mean, memory rise, first firing alert",
      input: full,
      check: ({ findings: f, text }) => {
        expect(f.worst).toEqual({ layer: 6, step: 11, received: 30, mean: 10, ratio: 3, wasGroupWorst: true, groupWorstEpRank: 2, groupWorstRatio: 3 });
        expect(f.layers).toEqual([
          { layer: 5, maxRatio: 2, maxRatioStep: 10, received: 20, mean: 10, meanRatio: 2, points: 1 },
          // (1.0 + 3.0 + 1.5) / 3
          { layer: 6, maxRatio: 3, maxRatioStep: 11, received: 30, mean: 10, meanRatio: 5.5 / 3, points: 3 },
        ]);
        expect(f.groupWorstPoints).toEqual({ top: 3, total: 4 });
        expect(f.incompletePoints).toBe(1);
        expect(f.memory).toEqual({
          fromStep: 10, toStep: 12, firstPeakBytes: 60 * GiB, lastPeakBytes: 68 * GiB, riseBytes: 8 * GiB,
          maxPeakBytes: 68 * GiB, maxPeakStep: 12, lastFractionOfGpu: 0.85, samples: 3,
        });
        // maxvio on a layer of another stage, the OOM's own alert and one fired after the OOM are not precursors.
        expect(f.firstFiringAlert).toEqual({ ruleId: "ep-imbalance-high", scope: "layer:6", layer: 6, rank: null, step: 8, value: 2.4 });
        expect(f.alertsFiringAtOom).toBe(2);
        expect(f.alertsResolvedInWindow).toBe(1);
        expect(f.windowAlerts).toEqual([
          { ruleId: "ep-imbalance-high", layer: 6, rank: null, since: 8, endStep: null },
          { ruleId: "memory-headroom-low", layer: null, rank: 13, since: 10, endStep: 11 },
          { ruleId: "aux-loss-high", layer: 5, rank: null, since: 11, endStep: null },
        ]);
        expect(f.otherAlertsInWindow).toBe(1);
        expect(f.missing).toEqual([]);
        expect(text).toBe(
          "EP rank 2 of dispatch group 3 (edp 1, pp 1), global rank 13, ran out of memory at step 12 (forward pass, layer 6). " +
            "In the last 3 steps it received up to 3.00x its share in layer 6 at step 11 (30 tokens against a group mean of 10), " +
            "the most of any EP rank in its group. It was its group's busiest EP rank in 3 of 4 layer-steps. " +
            "Peak memory rose 8.0 GiB over 2 steps, to 68.0 GiB at step 12 (85.0% of the 80.0 GiB GPU). " +
            "Alerts on its rank, its stage's layers or the run in the window: ep-imbalance-high on layer 6 firing since step 8, " +
            "still firing at the OOM; memory-headroom-low on rank 13 fired at step 10, resolved by step 11; aux-loss-high on layer 5 " +
            "firing since step 11, still firing at the OOM. 2 of 3 were still firing at the OOM. " +
            "1 more on other stages' layers or ranks is listed below.",
        );
      },
    },
    {
      name: "the dying rank was not its group's busiest; one memory sample; no GPU size; only a resolved alert",
      input: {
        rank: 0,
        epRank: 0,
        group: { index: 0, edp: 0, pp: 0 },
        oomStep: 2,
        oomLayer: null,
        phase: "backward",
        window: { from: 1, to: 2 },
        stageLayers: [1],
        gpuMemoryBytes: 0,
        // step 1: mean 40, mine 30 (0.75x), EP rank 1 50 (1.25x); step 2: mean 20, mine 10 (0.5x)
        received: [
          { step: 1, layer: 1, byEpRank: [30, 50], complete: true },
          { step: 2, layer: 1, byEpRank: [10, 30], complete: true },
        ],
        memory: [{ step: 2, peakAllocatedBytes: 1.5 * GiB }],
        alerts: [alert({ ruleId: "ep-imbalance-high", layer: 1, step: 1, status: "resolved", endStep: 1 })],
      },
      check: ({ findings: f, text }) => {
        expect(f.worst).toEqual({ layer: 1, step: 1, received: 30, mean: 40, ratio: 0.75, wasGroupWorst: false, groupWorstEpRank: 1, groupWorstRatio: 1.25 });
        expect(f.groupWorstPoints).toEqual({ top: 0, total: 2 });
        expect(f.memory).toMatchObject({ samples: 1, riseBytes: 0, lastFractionOfGpu: null });
        expect(f.firstFiringAlert).toBeNull();
        expect(f.alertsResolvedInWindow).toBe(1);
        expect(text).toBe(
          "EP rank 0 of dispatch group 0 (edp 0, pp 0), global rank 0, ran out of memory at step 2 (backward pass). " +
            "In the last 2 steps it received up to 0.75x its share in layer 1 at step 1 (30 tokens against a group mean of 40), " +
            "while EP rank 1 of the group received 1.25x. It was its group's busiest EP rank in 0 of 2 layer-steps. " +
            "Only one memory sample was stored (step 2): peak 1.5 GiB. " +
            "Alerts on its rank, its stage's layers or the run in the window: ep-imbalance-high on layer 1 fired at step 1, resolved by step 1. " +
            "The run did not report its GPU memory, so headroom is unknown.",
        );
      },
    },
    {
      // Issue 17 item 9: the page listed ep-imbalance-high firing from step 14 and memory-headroom-low from 115
      // (both last seen at 172, the run's last complete step) while the paragraph said "since step 174".
      name: "alerts of the window: since when each fired, as the list below says, not only those seen at the OOM step",
      input: {
        ...full,
        oomStep: 174,
        window: { from: 125, to: 174 },
        received: [],
        memory: [],
        gpuMemoryBytes: null,
        alerts: [
          alert({ ruleId: "ep-imbalance-high", layer: 6, step: 14, status: "resolved", endStep: 172, value: 2.1 }),
          alert({ ruleId: "memory-headroom-low", rank: 13, step: 115, status: "resolved", endStep: 172 }),
          alert({ ruleId: "drop-fraction-high", layer: 5, step: 174 }),
          alert({ ruleId: "z-loss-high", layer: 5, step: 30, status: "resolved", endStep: 60 }), // before the window
          alert({ ruleId: "oom", rank: 13, step: 174 }),
        ],
      },
      check: ({ findings: f, text }) => {
        expect(f.windowAlerts.map((a) => [a.ruleId, a.since, a.endStep])).toEqual([
          ["ep-imbalance-high", 14, 172],
          ["memory-headroom-low", 115, 172],
          ["drop-fraction-high", 174, null],
        ]);
        expect(text).toContain(
          "Alerts on its rank, its stage's layers or the run in the window: ep-imbalance-high on layer 6 fired at step 14, resolved by step 172; " +
            "memory-headroom-low on rank 13 fired at step 115, resolved by step 172; drop-fraction-high on layer 5 firing since step 174, " +
            "still firing at the OOM. 1 of 3 was still firing at the OOM.",
        );
        expect(text).not.toContain("had been firing since step 174");
        expect(text).not.toContain("z-loss-high");
      },
    },
    {
      name: "nothing stored: says what is missing instead of inventing",
      input: {
        rank: 7,
        epRank: null,
        group: null,
        oomStep: 50,
        oomLayer: null,
        phase: null,
        window: { from: 21, to: 50 },
        stageLayers: [],
        gpuMemoryBytes: 80 * GiB,
        received: [],
        memory: [],
        alerts: [],
      },
      check: ({ findings: f, text }) => {
        expect(f.worst).toBeNull();
        expect(f.memory).toBeNull();
        expect(f.layers).toEqual([]);
        expect(text).toBe(
          "Rank 7 ran out of memory at step 50. No alert on its rank, its stage's layers or the run had fired before the OOM. " +
            "Rank 7 never reported its coordinates, so its EP rank and dispatch group are unknown and its token load cannot be attributed. " +
            "No memory samples of rank 7 were stored for steps 21–50, so its memory trend is unknown.",
        );
      },
    },
    {
      name: "known coordinates but only partial groups; memory fell",
      input: {
        ...full,
        received: full.received.map((p) => ({ ...p, complete: false })),
        memory: [
          { step: 10, peakAllocatedBytes: 70 * GiB },
          { step: 12, peakAllocatedBytes: 69 * GiB },
        ],
        alerts: [],
      },
      check: ({ findings: f, text }) => {
        expect(f.worst).toBeNull();
        // layer 3 is outside the stage and step 9 outside the window: 5 partial points remain.
        expect(f.incompletePoints).toBe(5);
        expect(f.memory?.riseBytes).toBe(-1 * GiB);
        expect(text).toContain("Peak memory fell 1.0 GiB over 2 steps, to 69.0 GiB at step 12 (86.3% of the 80.0 GiB GPU).");
        expect(text).toContain("Its dispatch group never reported completely in steps 10–12 (5 partial layer-steps)");
      },
    },
    {
      name: "known coordinates but no counts in the window",
      input: { ...full, received: [], alerts: [] },
      check: ({ findings: f, text }) => {
        expect(f.worst).toBeNull();
        expect(f.missing).toEqual(["No token counts of its dispatch group were stored for its MoE layers in steps 10–12."]);
        expect(text).not.toContain("its share");
      },
    },
    {
      name: "equal ratios: the earliest step is reported",
      input: {
        ...full,
        received: [
          { step: 10, layer: 6, byEpRank: [0, 0, 20, 0], complete: true },
          { step: 11, layer: 5, byEpRank: [0, 0, 8, 0], complete: true },
        ],
      },
      check: ({ findings: f }) => {
        expect(f.worst).toMatchObject({ layer: 6, step: 10, ratio: 4 });
      },
    },
  ];
  for (const c of cases) it(c.name, () => c.check(explainOom(c.input)));
});
