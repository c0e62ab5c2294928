import { describe, expect, it } from "vitest";
import { flushProgress, layerRow, LAYER_COLUMNS, rankUpdateSql, stepRow, STEP_COLUMNS } from "./flushRows";
import type { PendingBatch } from "./ingestStore";
import { unpackCounts } from "./packCounts";

const run = (id: string) => ({ id }) as PendingBatch["run"];
const batch = (runId: string, rank: number, seq: number, steps: number[], dropped = 0): PendingBatch => ({
  run: run(runId), rank, seq, droppedBatches: dropped, steps: [],
  layers: steps.map((step) => ({ step, layer: 1, microBatches: 1, tokens: 4, tokensPerExpert: [4, 4], losses: {} })),
});

describe("flushProgress", () => {
  it("keeps each rank's highest seq, sums its dropped batches and finds each run's highest step", () => {
    const p = flushProgress([batch("a", 0, 5, [3], 1), batch("a", 0, 4, [7], 2), batch("a", 1, 9, []), batch("b", 0, 2, [1])]);
    expect(p.ranks).toEqual([
      { runId: "a", rank: 0, seq: 5, dropped: 3 },
      { runId: "a", rank: 1, seq: 9, dropped: 0 },
      { runId: "b", rank: 0, seq: 2, dropped: 0 },
    ]);
    expect(p.runs).toEqual([{ runId: "a", top: 7 }, { runId: "b", top: 1 }]);
  });

  it("says -1 for a run whose batches carried no step", () => {
    expect(flushProgress([batch("a", 0, 1, [])]).runs).toEqual([{ runId: "a", top: -1 }]);
  });
});

describe("rows", () => {
  it("lay out values in their column order, counts packed and absent fields null", () => {
    const row = layerRow("r", 3, { step: 2, layer: 5, microBatches: 4, tokens: 64, tokensPerExpert: [30, 34], dropped: 1, losses: { z_loss: 0.5 } });
    const byColumn = Object.fromEntries(LAYER_COLUMNS.map((c, i) => [c, row[i]]));
    expect({ ...byColumn, counts: unpackCounts(byColumn.counts as Uint8Array) }).toEqual({
      runId: "r", step: 2, layer: 5, rank: 3, microBatches: 4, tokens: 64, counts: [30, 34], countsBeforeDrop: null,
      received: null, dropped: 1, loadBalancingLoss: null, seqLoadBalancingLoss: null, globalLoadBalancingLoss: null, zLoss: 0.5,
    });
    expect(stepRow("r", 1, { step: 9, iterationTimeMs: 120 })).toHaveLength(STEP_COLUMNS.length);
  });

  it("numbers PostgreSQL placeholders in order", () => {
    expect(rankUpdateSql((i) => `$${i}`).match(/\$\d/g)).toEqual(["$1", "$2", "$3", "$4", "$5", "$6"]);
  });
});
