import { describe, expect, it } from "vitest";
import { createTensorBoardCollector } from "./createTensorBoardCollector";
import { concat, event, frameRecord, simpleValue } from "./testdata/tfrecordWriter";

// An event file as Megatron writes it with --moe-per-layer-logging on a 2-layer model whose first layer
// is dense: the dense layer's per-layer series is all zeros.
function eventFile(): Uint8Array {
  const records = [event({ wallTime: 1000, fileVersion: "brain.Event:2" })];
  for (const step of [1, 2, 3]) {
    records.push(
      event({
        wallTime: 1000 + step,
        step,
        values: [
          simpleValue("load_balancing_loss", 1 + step / 10),
          simpleValue("load_balancing_loss vs samples", 1 + step / 10),
          simpleValue("moe/load_balancing_loss_layer_0", 0),
          simpleValue("moe/load_balancing_loss_layer_1", 2 + step / 10),
          simpleValue("z_loss", step === 3 ? 9 : 0),
          simpleValue("grad-norm", step === 2 ? NaN : 1),
        ],
      }),
    );
  }
  return concat(records.map(frameRecord));
}

describe("createTensorBoardCollector", () => {
  it("imports scalars across chunk splits, drops all-zero series, releases held zeros in order", () => {
    const file = eventFile();
    const c = createTensorBoardCollector();
    const points = [];
    for (let i = 0; i < file.length; i += 13) points.push(...c.push(file.slice(i, i + 13)));
    const r = c.finish();

    expect(points.filter((p) => p.tag === "z_loss").map((p) => [p.step, p.value])).toEqual([[1, 0], [2, 0], [3, 9]]);
    const layer2 = points.filter((p) => p.tag === "moe/load_balancing_loss_layer_1");
    expect(layer2.map((p) => p.series)).toEqual(Array(3).fill({ kind: "router_loss", name: "load_balancing_loss", layer: 2 }));
    expect(layer2.map((p) => p.wallTime)).toEqual([1001, 1002, 1003]);
    expect(points.some((p) => p.tag.endsWith("vs samples"))).toBe(false);

    expect(r.droppedAllZero).toEqual(["moe/load_balancing_loss_layer_0"]);
    expect(r.events).toBe(4);
    expect(r.fileVersions).toEqual(["brain.Event:2"]);
    expect(r.series.map((s) => [s.tag, s.points, s.firstStep, s.lastStep])).toEqual([
      ["grad-norm", 2, 1, 3],
      ["load_balancing_loss", 3, 1, 3],
      ["moe/load_balancing_loss_layer_1", 3, 1, 3],
      ["z_loss", 3, 1, 3],
    ]);
    expect(r.skippedByReason).toEqual({ "`<tag> vs samples` duplicate of a step series": 3, "non-finite grad-norm": 1 });
    expect(r.framing.problems).toEqual([]);
  });

  it("keeps the first value of a step written again after a restart", () => {
    const file = concat(
      [
        event({ step: 10, values: [simpleValue("lm loss", 5)] }),
        event({ step: 11, values: [simpleValue("lm loss", 4.9)] }),
        event({ step: 10, values: [simpleValue("lm loss", 5.1)] }),
        event({ step: 12, values: [simpleValue("lm loss", 4.8)] }),
      ].map(frameRecord),
    );
    const c = createTensorBoardCollector();
    expect(c.push(file).map((p) => [p.step, p.value])).toEqual([[10, 5], [11, 4.900000095367432], [12, 4.800000190734863]]);
    expect(c.finish().repeatedSteps).toBe(1);
  });

  it("counts undecodable records and can leave out unclassified tags", () => {
    const file = concat([frameRecord(Uint8Array.from([0x10, 0xff])), frameRecord(event({ step: 1, values: [simpleValue("forward-backward-time", 3), simpleValue("z_loss", 1)] }))]);
    const c = createTensorBoardCollector({ includeOther: false });
    expect(c.push(file).map((p) => p.tag)).toEqual(["z_loss"]);
    expect(c.finish().skippedByReason).toEqual({ "malformed event: the record ends in the middle of a field (truncated, or not a TensorBoard event)": 1, "tag not imported (other)": 1 });
  });
});
