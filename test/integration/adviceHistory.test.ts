/**
 * The advisor's history is read per request from the stored aggregates. Only the stable window, the
 * run's first complete step and the last complete step at or before the asked step are read (a 100k-step
 * run must not be grouped whole on every request); the verdict must be exactly the one the whole history
 * gives, for steps before, inside and after the data, with gaps, partial aggregates and a bad point just
 * outside the window.
 */
import { afterEach, describe, expect, it } from "vitest";
import { classifyHistory } from "../../lib/analysis/advisor/classifyHistory";
import { DEFAULT_ADVISOR_OPTIONS } from "../../lib/analysis/advisor/types";
import { packCounts } from "../../lib/store/packCounts";
import { historyBetween, loadHistory } from "../../lib/web/data/adviceQueries";
import { openDatabase, type Db } from "../../lib/store/db";
import { registerRun } from "../../lib/store/runsRepo";
import { smallRun, tempDatabaseUrl } from "./harness";

const WINDOW = DEFAULT_ADVISOR_OPTIONS.stableWindowSteps;

describe("advisor history", () => {
  let db: Db | null = null;
  afterEach(async () => {
    await db?.close();
    db = null;
  });

  it("gives the whole history's verdict from the window, the first step and the last step", async () => {
    db = await openDatabase(tempDatabaseUrl());
    const { run } = await registerRun(db, smallRun("advice-history"));
    // Steps 5..900 with gaps (at 910 the window [711, 910] is balanced and only the first step shows it reaches back); imbalanced until 300, at 640 (just outside the window of 850) and 700-710;
    // every 7th step's layer 3 is still partial (not complete, so not in the history).
    const rows = [];
    for (let step = 5; step <= 900; step++) {
      if (step % 13 === 0 || (step > 400 && step < 460)) continue;
      const bad = step <= 300 || step === 640 || (step >= 700 && step <= 710);
      for (const layer of [2, 3, 4]) {
        const partial = layer === 3 && step % 7 === 0;
        rows.push({
          runId: run.id, layer, step, ranksReported: partial ? 2 : 4, ranksExpected: 4, tokens: 100n,
          load: Buffer.from(packCounts([1, 2, 3, 4])), deadExperts: 0,
          epImbalance: bad && layer === 4 ? 2.5 : 1.05, maxVio: bad ? 1.4 : 0.1, zLoss: step % 11 === 0 ? null : 0.01 + step * 1e-5,
        });
      }
    }
    await db.prisma.layerAggregate.createMany({ data: rows });
    const whole = await historyBetween(db, run.id, 0, 1_000_000);
    for (const step of [1, 5, 6, 150, 299, 301, 430, 460, 639, 640 + WINDOW - 1, 640 + WINDOW, 709, 850, 900, 910, 1200]) {
      const part = await loadHistory(db, run.id, step);
      expect(part.length).toBeLessThanOrEqual(WINDOW + 2);
      expect({ step, verdict: classifyHistory(part, step, DEFAULT_ADVISOR_OPTIONS), last: part.filter((p) => p.step <= step).at(-1) })
        .toEqual({ step, verdict: classifyHistory(whole, step, DEFAULT_ADVISOR_OPTIONS), last: whole.filter((p) => p.step <= step).at(-1) });
    }
  });
});
