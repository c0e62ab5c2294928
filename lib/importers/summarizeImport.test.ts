import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createTensorBoardCollector } from "./createTensorBoardCollector";
import { parseMegatronLogText } from "./parseMegatronLog";
import { parseTokensJsonlText } from "./parseTokensJsonl";
import { summarizeImport } from "./summarizeImport";
import { iterationLine } from "./testdata/megatronFormat";
import { concat, event, frameRecord, simpleValue } from "./testdata/tfrecordWriter";

const fixture = readFileSync(path.join(import.meta.dirname, "testdata/seunghyunseo-64e-top1-ep4.log"), "utf8");

describe("summarizeImport", () => {
  it("megatron-log: series with ranges, skipped reasons grouped by count, warnings", () => {
    const extra = [
      iterationLine({ iteration: 1100, gradNorm: NaN, losses: [["lm loss", 4], ["z_loss", 0]] }),
      iterationLine({ iteration: 1120, gradNorm: NaN, losses: [["lm loss", 4], ["z_loss", 0]] }),
      iterationLine({ iteration: 1120, losses: [["lm loss", 3]] }),
      " iteration  x/ 1 | consumed samples: 1 |",
    ];
    const s = summarizeImport({ kind: "megatron-log", result: parseMegatronLogText(`${fixture}${extra.join("\n")}\n`) });
    expect(s.iterations).toEqual({ count: 6, first: 20, last: 1120 });
    expect(s.series.find((x) => x.name === "load_balancing_loss")).toEqual({ name: "load_balancing_loss", points: 4, first: 20, last: 1080 });
    expect(s.series.find((x) => x.name === "lm loss")).toEqual({ name: "lm loss", points: 6, first: 20, last: 1120 });
    expect(s.series.find((x) => x.name === "memory (MB) rank 0")).toEqual({ name: "memory (MB) rank 0", points: 1, first: 20, last: 20 });
    expect(s.skipped).toEqual([
      { reason: "non-finite grad norm", count: 2 },
      { reason: "malformed iteration header", count: 1 },
    ]);
    expect(s.skippedTotal).toBe(3);
    expect(s.droppedAllZero).toEqual(["z_loss"]);
    expect(s.warnings).toEqual([
      "1 repeated iteration lines ignored (first kept); 1 had different values (a resumed run re-logging iterations?)",
      "no arguments block printed: run configuration not imported",
    ]);
    expect(s.text.split("\n")).toEqual(
      expect.arrayContaining([
        "Imported megatron-log: 7 series, iterations 20..1120",
        "Dropped all-zero series: z_loss",
        "Skipped 3:",
        "       2  non-finite grad norm",
      ]),
    );
    expect(s.text).toMatch(/ {2}load_balancing_loss +4 points {2}20\.\.1080/);
  });

  it("tensorboard: includes framing problems and a truncated tail", () => {
    const file = concat([
      frameRecord(event({ step: 5, values: [simpleValue("z_loss", 10)] })),
      frameRecord(event({ step: 6, values: [simpleValue("z_loss", 11)] })),
    ]);
    file[12 + 2] ^= 1; // corrupt the first record's data
    const c = createTensorBoardCollector();
    c.push(file.slice(0, file.length - 3));
    const s = summarizeImport({ kind: "tensorboard", result: c.finish() });
    expect(s.iterations).toBeNull();
    expect(s.skipped).toEqual([{ reason: "data CRC mismatch: record skipped", count: 1 }]);
    expect(s.warnings[0]).toMatch(/^file ends inside a record at byte \d+/);
    expect(s.text.split("\n")[0]).toBe("Imported tensorboard: nothing");
  });

  it("tokens-jsonl: one series with its layer and expert counts", () => {
    const { summary } = parseTokensJsonlText('{"iteration":1,"layer":1,"counts":[1,2]}\n{"iteration":9,"layer":2,"counts":[3,4]}\nnope\n');
    const s = summarizeImport({ kind: "tokens-jsonl", result: summary });
    expect(s.series).toEqual([{ name: "tokens_per_expert (2 layers, 2 experts)", points: 2, first: 1, last: 9 }]);
    expect(s.iterations).toEqual({ count: 2, first: 1, last: 9 });
    expect(s.skipped).toEqual([{ reason: "not valid JSON", count: 1 }]);
  });
});
