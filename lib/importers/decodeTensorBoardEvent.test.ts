import { describe, expect, it } from "vitest";
import { classifyScalarTag, decodeTensorBoardEvent, type ScalarTagClass } from "./decodeTensorBoardEvent";
import { concat, event, pb, simpleValue, tensorValue } from "./testdata/tfrecordWriter";

// TensorProto pieces (tensor.proto): dtype=1, tensor_shape=2, tensor_content=4, float_val=5, double_val=6.
const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_STRING = 7;
const scalarShape = pb.bytesField(2, new Uint8Array(0));
// TensorShapeProto: repeated Dim dim = 2, Dim.size = 1.
const shapeOf = (...dims: number[]): Uint8Array => pb.bytesField(2, concat(dims.map((d) => pb.bytesField(2, pb.varintField(1, d)))));
const f64le = (v: number): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return b;
};

describe("decodeTensorBoardEvent", () => {
  const cases: Array<{ name: string; bytes: Uint8Array; want: { step: number; wallTime: number; scalars: Array<{ tag: string; value: number }>; skipped?: string[]; fileVersion?: string } }> = [
    {
      name: "file_version header event",
      bytes: event({ wallTime: 1700000000.5, fileVersion: "brain.Event:2" }),
      want: { step: 0, wallTime: 1700000000.5, scalars: [], fileVersion: "brain.Event:2" },
    },
    {
      name: "simple_value scalars (torch.utils.tensorboard)",
      bytes: event({ wallTime: 1700000001.25, step: 20, values: [simpleValue("load_balancing_loss", 1.4375), simpleValue("moe/z_loss_layer_0", 10.5)] }),
      want: { step: 20, wallTime: 1700000001.25, scalars: [{ tag: "load_balancing_loss", value: 1.4375 }, { tag: "moe/z_loss_layer_0", value: 10.5 }] },
    },
    {
      name: "tensor with a packed double_val (TF2 summary ops)",
      bytes: event({ wallTime: 1, step: 7, values: [tensorValue("lm loss", [pb.varintField(1, DT_DOUBLE), scalarShape, pb.packedDoubles(6, [3.141592653589793])])] }),
      want: { step: 7, wallTime: 1, scalars: [{ tag: "lm loss", value: 3.141592653589793 }] },
    },
    {
      name: "tensor with tensor_content bytes",
      bytes: event({ step: 8, values: [tensorValue("z_loss", [pb.varintField(1, DT_DOUBLE), scalarShape, pb.bytesField(4, f64le(12.25))])] }),
      want: { step: 8, wallTime: 0, scalars: [{ tag: "z_loss", value: 12.25 }] },
    },
    {
      name: "tensor with an unpacked float_val and shape [1]",
      bytes: event({ step: 9, values: [tensorValue("grad-norm", [pb.varintField(1, DT_FLOAT), shapeOf(1), pb.floatField(5, 0.5)])] }),
      want: { step: 9, wallTime: 0, scalars: [{ tag: "grad-norm", value: 0.5 }] },
    },
    {
      name: "scalar tensor 0 written with no value field (proto3 default)",
      bytes: event({ step: 10, values: [tensorValue("z_loss", [pb.varintField(1, DT_FLOAT), scalarShape])] }),
      want: { step: 10, wallTime: 0, scalars: [{ tag: "z_loss", value: 0 }] },
    },
    {
      name: "steps beyond 32 bits",
      bytes: event({ step: 2 ** 40 + 3, values: [simpleValue("x", 1)] }),
      want: { step: 2 ** 40 + 3, wallTime: 0, scalars: [{ tag: "x", value: 1 }] },
    },
    {
      name: "non-scalar values are reported, not imported",
      bytes: event({
        step: 11,
        values: [
          tensorValue("text", [pb.varintField(1, DT_STRING), scalarShape, pb.stringField(8, "hello")]),
          tensorValue("vec", [pb.varintField(1, DT_FLOAT), shapeOf(3), pb.packedFloats(5, [1, 2, 3])]),
          concat([pb.stringField(1, "hist"), pb.bytesField(5, new Uint8Array(0))]),
          simpleValue("kept", 2),
        ],
      }),
      want: {
        step: 11,
        wallTime: 0,
        scalars: [{ tag: "kept", value: 2 }],
        skipped: ["string tensor (text summary)", "non-scalar tensor of shape [3]", "histogram summary"],
      },
    },
  ];
  it.each(cases)("$name", ({ bytes, want }) => {
    const r = decodeTensorBoardEvent(bytes);
    if (!r.ok) throw new Error(r.reason);
    expect(r.event.step).toBe(want.step);
    expect(r.event.wallTime).toBe(want.wallTime);
    expect(r.event.scalars).toEqual(want.scalars);
    expect(r.event.skippedValues.map((s) => s.reason)).toEqual(want.skipped ?? []);
    expect(r.event.fileVersion).toBe(want.fileVersion);
  });

  const bad: Array<{ name: string; bytes: Uint8Array; reason: RegExp }> = [
    { name: "truncated record", bytes: event({ step: 1, values: [simpleValue("x", 1)] }).slice(0, -2), reason: /ends in the middle of a field/ },
    { name: "invalid wire type on a field we skip", bytes: Uint8Array.from([0x7f]), reason: /invalid wire type 7/ },
    { name: "unterminated varint", bytes: Uint8Array.from([0x10, 0xff]), reason: /ends in the middle of a field/ },
    { name: "unterminated group on a field we skip", bytes: Uint8Array.from([0x23]), reason: /malformed event/ },
  ];
  it.each(bad)("rejects a $name with a reason", ({ bytes, reason }) => {
    const r = decodeTensorBoardEvent(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe("classifyScalarTag", () => {
  const cases: Array<{ tag: string; want: ScalarTagClass }> = [
    { tag: "load_balancing_loss", want: { kind: "router_loss", name: "load_balancing_loss" } },
    { tag: "seq_load_balancing_loss", want: { kind: "router_loss", name: "seq_load_balancing_loss" } },
    { tag: "global_load_balancing_loss", want: { kind: "router_loss", name: "global_load_balancing_loss" } },
    { tag: "z_loss", want: { kind: "router_loss", name: "z_loss" } },
    // Megatron's i is the 0-based index of layer_number - 1.
    { tag: "moe/load_balancing_loss_layer_0", want: { kind: "router_loss", name: "load_balancing_loss", layer: 1 } },
    { tag: "moe/z_loss_layer_11", want: { kind: "router_loss", name: "z_loss", layer: 12 } },
    { tag: "moe/seq_load_balancing_loss_layer_3", want: { kind: "router_loss", name: "seq_load_balancing_loss", layer: 4 } },
    { tag: "moe/global_load_balancing_loss_layer_0", want: { kind: "router_loss", name: "global_load_balancing_loss", layer: 1 } },
    { tag: "moe/load_imbalance_layer_2", want: { kind: "moe_layer_metric", name: "load_imbalance", layer: 3 } },
    { tag: "lm loss", want: { kind: "lm_loss", name: "lm loss" } },
    { tag: "mtp_1 loss", want: { kind: "mtp_loss", name: "mtp_1 loss", depth: 1 } },
    { tag: "mem-allocated-bytes", want: { kind: "memory", name: "allocated_bytes", unit: "bytes" } },
    { tag: "mem-max-allocated-bytes", want: { kind: "memory", name: "max_allocated_bytes", unit: "bytes" } },
    { tag: "mem-reserved-bytes", want: { kind: "memory", name: "reserved_bytes", unit: "bytes" } },
    { tag: "mem-allocated-count", want: { kind: "memory", name: "allocation_count", unit: "count" } },
    { tag: "load_balancing_loss vs samples", want: { kind: "vs_samples", name: "load_balancing_loss" } },
    { tag: "iteration-time", want: { kind: "training", name: "iteration-time" } },
    { tag: "learning-rate", want: { kind: "training", name: "learning-rate" } },
    { tag: "mtp_1_acceptance_rate", want: { kind: "other", name: "mtp_1_acceptance_rate" } },
    { tag: "forward-backward-time", want: { kind: "other", name: "forward-backward-time" } },
  ];
  it.each(cases)("$tag", ({ tag, want }) => {
    expect(classifyScalarTag(tag)).toEqual(want);
  });
});
