import { describe, expect, it } from "vitest";
import type { Suggestion } from "../analysis/advisor/types";
import { adviceNumbers, changeRows, prepareAdvice, type AdviceInput } from "./prepareAdvice";

// Trimmed from GET /api/runs/{id}/advice?step=80 of a simulated 16-rank early-imbalance run (EP 4, PP 2, 8 experts).
const etp: Suggestion = {
  id: "etp-ep:etp2-ep2",
  kind: "etp-ep",
  title: "EP 4 -> 2, ETP 1 -> 2",
  changes: [
    { flag: "--expert-model-parallel-size", from: "4", to: "2" },
    { flag: "--expert-tensor-parallel-size", from: null, to: "2" },
  ],
  argsAfter: [],
  diff: "--- launch arguments (current)\n+++ launch arguments (suggested)\n- --expert-model-parallel-size 4\n+ --expert-model-parallel-size 2\n+ --expert-tensor-parallel-size 2",
  rationale: "Worst EP rank receives 1.89x its group's mean today ...",
  cost: "expert all-to-all over 2 ranks instead of 4 ...",
  valid: true,
  violations: [],
  numbers: {
    epBefore: 4, epAfter: 2, worstRatioBefore: 1.888671875, worstRatioAfter: 1.3576889038085938, worstReceivedBefore: 247552, worstReceivedAfter: 355910,
    predictedPeakBytesBefore: 32081379363, predictedPeakBytesAfter: 31035550778.820686, gpuMemoryBytes: 85899345920, fitsNode: "yes",
  },
  score: 134.4,
};
const cap: Suggestion = {
  ...etp,
  id: "capacity:2.0",
  kind: "capacity",
  title: "Capacity factor none -> 2.0",
  changes: [{ flag: "--moe-expert-capacity-factor", from: null, to: "2.0" }],
  valid: false,
  violations: [{ rule: "capacity-needs-aux-loss", severity: "error", message: "a capacity factor needs aux_loss, seq_aux_loss, global_aux_loss or none" }],
  numbers: {
    capacityFactor: 2, dropFractionOverall: 0.029, dropFractionWorstLayer: 0.064, worstDropLayer: 1, capacityFactorForZeroDrops: 2.5913, estimate: "yes", basis: "dispatched",
    padOverhead: null, "dropFraction@L1": 0.064,
  },
};
const recompute: Suggestion = { ...etp, id: "recompute:moe", kind: "recompute", title: "Recompute the MoE layer", changes: [{ flag: "--moe-layer-recompute", from: "", to: null }], numbers: { predictedSavingBytes: 6012954214 } };

const DTO: AdviceInput = {
  runId: "r",
  simulated: true,
  step: 80,
  suggestions: [recompute, cap, etp, { ...etp, id: "etp-ep:etp2-ep4", title: "ETP 1 -> 2 (EP 4)" }],
  memoryModel: { baseBytes: 21_689_000_000, bytesPerToken: 10_342, r2: 0.29, samples: 640, rmsErrorBytes: 1_997_000_000 },
  memoryPredictionsOff: "memory model fit r2 0.29 is below 0.50: no predicted memory",
  notes: ["memory model: peak ~ 20.2 GiB + 10.1 KiB x received tokens; r2 0.29", "memory model fit r2 0.29 is below 0.50: no predicted memory", "step 80 needs relief: EP imbalance 1.89x"],
};

describe("prepareAdvice", () => {
  const m = prepareAdvice(DTO);
  it("groups by kind in the panel's order, keeping the advisor's order inside a kind", () => {
    expect(m.groups.map((g) => [g.kind, g.items.map((i) => i.id)])).toEqual([
      ["etp-ep", ["etp-ep:etp2-ep2", "etp-ep:etp2-ep4"]],
      ["capacity", ["capacity:2.0"]],
      ["recompute", ["recompute:moe"]],
    ]);
    expect(m.count).toBe(4);
    expect(m.simulated).toBe(true);
  });
  it("states the memory model fit and drops the duplicate note", () => {
    expect(m.memoryModel).toEqual({
      text: "peak ≈ 20.2 GiB + 10.1 KiB × received tokens; r² 0.29 over 640 samples, RMS error 1.9 GiB",
      weak: true,
      why: "memory model fit r2 0.29 is below 0.50: no predicted memory",
    });
    expect(m.notes).toEqual(["step 80 needs relief: EP imbalance 1.89x"]);
  });
  it("keeps the notes when there is no model", () => {
    expect(prepareAdvice({ ...DTO, memoryModel: null, memoryPredictionsOff: null }).notes).toHaveLength(3);
  });
  it("carries validity and violations", () => {
    const c = m.groups[1].items[0];
    expect(c.valid).toBe(false);
    expect(c.violations[0].message).toContain("capacity factor");
  });
});

describe("adviceNumbers", () => {
  it("shows EP/ETP before -> after with memory as a share of the GPU", () => {
    const { keyNumbers, otherNumbers } = adviceNumbers(etp.numbers);
    expect(keyNumbers.map((n) => [n.label, n.text])).toEqual([
      ["worst EP rank / group mean", "1.89× → 1.36×"],
      ["worst EP rank's received tokens", "248k → 356k"],
      ["predicted peak memory (worst rank)", "29.9 GiB (37%) → 28.9 GiB (36%)"],
    ]);
    expect(otherNumbers.map((n) => n.key)).toEqual(["epBefore", "epAfter", "fitsNode"]);
  });
  it("shows capacity drops, the zero-drop factor with its basis, and skips null numbers", () => {
    const { keyNumbers, otherNumbers } = adviceNumbers(cap.numbers);
    expect(keyNumbers.map((n) => n.text)).toEqual(["2.9%", "6.4% (layer 1)", "2.59 (estimate), from dispatched counts"]);
    expect(otherNumbers.find((n) => n.key === "dropFraction@L1")!.text).toBe("6.4%");
  });
});

describe("changeRows", () => {
  it("spells out absent flags, removals and switches", () => {
    expect(changeRows([...etp.changes, ...recompute.changes])).toEqual([
      { flag: "--expert-model-parallel-size", from: "4", to: "2" },
      { flag: "--expert-tensor-parallel-size", from: "(not set)", to: "2" },
      { flag: "--moe-layer-recompute", from: "(switch)", to: "(removed)" },
    ]);
  });
});
