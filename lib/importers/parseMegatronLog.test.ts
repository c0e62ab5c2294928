import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createMegatronLogParser, parseMegatronLogText, stripLauncherPrefix } from "./parseMegatronLog";
import { argumentsBlock, iterationLine, memoryLine, pyE } from "./testdata/megatronFormat";

const fixture = readFileSync(path.join(import.meta.dirname, "testdata/seunghyunseo-64e-top1-ep4.log"), "utf8");

describe("parseMegatronLog on real lines (SeunghyunSEO/Megatron-LM moe_exp)", () => {
  const r = parseMegatronLogText(fixture);

  it("reads every iteration line with all its fields", () => {
    expect(r.lines).toBe(5);
    expect(r.iterations.map((i) => i.iteration)).toEqual([20, 40, 60, 1080]);
    expect(r.iterations[0]).toEqual({
      iteration: 20,
      trainIters: 40000,
      timestamp: "2024-10-24T16:22:31",
      consumedSamples: 1280,
      iterationTimeMs: 2027.3,
      learningRate: 1.2e-5,
      globalBatchSize: 64,
      lmLoss: 11.55841,
      losses: { load_balancing_loss: 1.436934 },
      lossScale: 1,
      gradNorm: 4.951,
      skippedIterations: 0,
      nanIterations: 0,
      extra: { "throughput per GPU (TFLOP/s/GPU)": 9.6, "num zeros": 312072984, "params norm": 1104.963 },
    });
    expect(r.skipped).toEqual([]);
    expect(r.droppedAllZero).toEqual([]);
  });

  it("keeps the aux loss as logged, including values just below the 1.0 of perfect balance", () => {
    expect(r.iterations.map((i) => i.losses.load_balancing_loss)).toEqual([1.436934, 1.314004, 1.100239, 0.9994035]);
  });

  it("reads the report_memory line with Python's raw float repr", () => {
    expect(r.memory).toEqual([
      {
        rank: 0,
        iteration: 20,
        label: "after 20 iterations",
        allocatedMB: 13182.66748046875,
        maxAllocatedMB: 33742.08056640625,
        reservedMB: 37658,
        maxReservedMB: 37658,
      },
    ]);
    expect(r.arguments).toBeNull();
  });
});

describe("stripLauncherPrefix", () => {
  const cases: Array<{ name: string; line: string; prefix: string; rest: string }> = [
    { name: "torchrun default role", line: "[default0]: [2024-01-01 00:00:00] x", prefix: "[default0]:", rest: " [2024-01-01 00:00:00] x" },
    { name: "torchrun --role rank", line: "[rank3]:  num_experts ... 8", prefix: "[rank3]:", rest: "  num_experts ... 8" },
    { name: "log_line_prefix_template [${rank}]:", line: "[12]:x", prefix: "[12]:", rest: "x" },
    { name: "srun --label", line: "0:  iteration", prefix: "0:", rest: " iteration" },
    { name: "srun --label right-aligned", line: " 7:  iteration", prefix: "7:", rest: " iteration" },
    { name: "OpenMPI --tag-output", line: "[1,0]<stdout>: x", prefix: "[1,0]<stdout>:", rest: " x" },
    { name: "pdsh host then torchrun", line: "worker-1: [default2]: x", prefix: "worker-1: [default2]:", rest: " x" },
    { name: "no prefix", line: " [2024-01-01 00:00:00] iteration", prefix: "", rest: " [2024-01-01 00:00:00] iteration" },
    { name: "memory line is not a prefix", line: "[Rank 0] (after 1 iterations)", prefix: "", rest: "[Rank 0] (after 1 iterations)" },
  ];
  it.each(cases)("$name", ({ line, prefix, rest }) => {
    expect(stripLauncherPrefix(line)).toEqual({ prefix, rest });
  });
});

describe("parseMegatronLog iteration line variants (from training_log's format strings)", () => {
  const base = { iteration: 10, trainIters: 500, losses: [["lm loss", 7.25]] as Array<[string, number]> };
  const cases: Array<{
    name: string;
    line: string;
    expect: Partial<{ timestamp: string; rankPrefix: string; lmLoss: number; skippedIterations: number; nanIterations: number }> & {
      losses?: Record<string, number>;
      extra?: Record<string, number>;
    };
  }> = [
    {
      name: "timestamp with microseconds (2026-01 on)",
      line: iterationLine({ ...base, timestamp: "2026-02-01 10:00:00.123456" }),
      expect: { timestamp: "2026-02-01T10:00:00.123456", lmLoss: 7.25 },
    },
    {
      name: "timestamp without microseconds (2024-01 .. 2026-01)",
      line: iterationLine({ ...base, timestamp: "2024-05-01 08:09:10" }),
      expect: { timestamp: "2024-05-01T08:09:10" },
    },
    { name: "no timestamp (before 2024-01)", line: iterationLine({ ...base, timestamp: null }), expect: { lmLoss: 7.25 } },
    {
      name: "torchrun [default0]: prefix",
      line: "[default0]:" + iterationLine({ ...base, timestamp: "2024-05-01 08:09:10" }),
      expect: { rankPrefix: "[default0]:", timestamp: "2024-05-01T08:09:10" },
    },
    { name: "srun --label prefix", line: "3: " + iterationLine(base), expect: { rankPrefix: "3:" } },
    { name: "[rank3]: prefix", line: "[rank3]:" + iterationLine(base), expect: { rankPrefix: "[rank3]:" } },
    { name: "OpenMPI prefix", line: "[1,7]<stdout>:" + iterationLine(base), expect: { rankPrefix: "[1,7]<stdout>:" } },
    {
      name: "every MoE and MTP loss",
      line: iterationLine({
        ...base,
        losses: [
          ["lm loss", 3.5],
          ["mtp_1 loss", 3.75],
          ["mtp_2 loss", 4],
          ["load_balancing_loss", 1.0125],
          ["seq_load_balancing_loss", 1.25],
          ["global_load_balancing_loss", 1.001],
          ["z_loss", 10.5],
        ],
      }),
      expect: {
        lmLoss: 3.5,
        losses: {
          "mtp_1 loss": 3.75,
          "mtp_2 loss": 4,
          load_balancing_loss: 1.0125,
          seq_load_balancing_loss: 1.25,
          global_load_balancing_loss: 1.001,
          z_loss: 10.5,
        },
      },
    },
    {
      name: "doubled aux loss of old --moe-layer-recompute builds is kept as logged",
      line: iterationLine({ ...base, losses: [["lm loss", 3], ["load_balancing_loss", 2.2]] }),
      expect: { losses: { load_balancing_loss: 2.2 } },
    },
    {
      name: "4-wide skipped/nan count fields",
      line: iterationLine({ ...base, skipped: 12, nan: 3, countWidth: 4 }),
      expect: { skippedIterations: 12, nanIterations: 3 },
    },
    {
      name: "counts wider than the {:3d} field",
      line: iterationLine({ ...base, skipped: 12345, nan: 1000 }),
      expect: { skippedIterations: 12345, nanIterations: 1000 },
    },
    {
      name: "plain (non E-notation) values",
      line: " iteration       10/     500 | lm loss: 7.5 | load_balancing_loss: 1 | number of skipped iterations:   0 |",
      expect: { lmLoss: 7.5, losses: { load_balancing_loss: 1 }, skippedIterations: 0 },
    },
    {
      name: "MoE tracker console scalars ({:.2f}) go to extra",
      line: iterationLine({ ...base, moeScalars: [["load_imbalance_p95", 1.37]] }),
      expect: { extra: { "load_imbalance_p95": 1.37 } },
    },
  ];
  it.each(cases)("$name", ({ line, expect: want }) => {
    const r = parseMegatronLogText(line);
    expect(r.skipped).toEqual([]);
    expect(r.iterations).toHaveLength(1);
    expect(r.iterations[0]).toMatchObject({ iteration: 10, trainIters: 500, ...want });
    if (!want.timestamp) expect(r.iterations[0].timestamp).toBe(want.timestamp);
    if (!want.rankPrefix) expect(r.iterations[0].rankPrefix).toBe(want.rankPrefix);
  });

  it("formats E-notation exactly as Python does in the test helper", () => {
    expect(pyE(11.55841)).toBe("1.155841E+01");
    expect(pyE(1.2e-5)).toBe("1.200000E-05");
    expect(pyE(Infinity)).toBe("INF");
  });
});

describe("parseMegatronLog robustness", () => {
  it("records nan/inf fields as skipped and keeps the rest of the iteration", () => {
    const line = iterationLine({ iteration: 7, losses: [["lm loss", Infinity], ["load_balancing_loss", 1.5]], gradNorm: NaN });
    const r = parseMegatronLogText(line);
    expect(r.iterations[0].lmLoss).toBeUndefined();
    expect(r.iterations[0].gradNorm).toBeUndefined();
    expect(r.iterations[0].losses).toEqual({ load_balancing_loss: 1.5 });
    expect(r.skipped.map((s) => s.reason)).toEqual(["non-finite lm loss", "non-finite grad norm"]);
    expect(r.skippedByReason).toEqual({ "non-finite lm loss": 1, "non-finite grad norm": 1 });
    expect(r.skipped[0]).toMatchObject({ line: 1 });
  });

  it("keeps the first of duplicated lines from several ranks and counts them", () => {
    const l = iterationLine({ iteration: 30, timestamp: "2024-05-01 08:09:10" });
    const changed = iterationLine({ iteration: 30, timestamp: "2024-05-01 09:00:00", losses: [["lm loss", 9]] });
    const r = parseMegatronLogText([`[default0]:${l}`, `[default1]:${l}`, `[default2]:${l}`, changed].join("\n"));
    expect(r.iterations).toHaveLength(1);
    expect(r.iterations[0]).toMatchObject({ rankPrefix: "[default0]:", lmLoss: 5 });
    expect(r.duplicates).toEqual({ iterations: 3, conflictingIterations: 1, memory: 0 });
    expect(r.skipped).toEqual([]);
  });

  it("counts interleaved garbage in lines without reporting it as skipped", () => {
    const text = [
      "NCCL INFO Bootstrap : Using eth0:10.0.0.1<0>",
      iterationLine({ iteration: 1 }),
      "saving checkpoint at iteration     100 to /ckpt in torch_dist format",
      " validation loss at iteration 100 on validation set | lm loss value: 4.360000E+00 | lm loss PPL: 7.826E+01 | ",
      "(min, max) time across ranks (ms):",
      "[after training is done] datetime: 2026-02-01 10:00:00.123456 ",
      "",
      iterationLine({ iteration: 2 }),
    ].join("\n");
    const r = parseMegatronLogText(text);
    expect(r.lines).toBe(8);
    expect(r.iterations.map((i) => i.iteration)).toEqual([1, 2]);
    expect(r.skipped).toEqual([]);
  });

  it("reports lines that look like broken iteration lines", () => {
    const text = [
      " [2024-05-01 08:09:10] iteration       4x/     500 | consumed samples:          256 |",
      iterationLine({ iteration: 5 }).slice(0, -40),
      " iteration        6/     500 | lm loss: abc | grad norm: 1.0 |",
    ].join("\n");
    const r = parseMegatronLogText(text);
    expect(r.skipped.map((s) => [s.line, s.reason])).toEqual([
      [1, "malformed iteration header"],
      [2, "truncated iteration line (last field cut off)"],
      [3, "unparsable value for lm loss"],
    ]);
    // The cut line still gives what was complete before the cut; its partial last field is not used.
    expect(r.iterations.map((i) => i.iteration)).toEqual([5, 6]);
    expect(r.iterations[0].nanIterations).toBeUndefined();
    expect(r.iterations[1]).toMatchObject({ gradNorm: 1 });
  });

  it("splits two ranks' lines glued onto one line", () => {
    const a = iterationLine({ iteration: 40, timestamp: "2024-05-01 08:09:10" });
    const b = iterationLine({ iteration: 50, timestamp: "2024-05-01 08:09:20", losses: [["lm loss", 4]] });
    const r = parseMegatronLogText(`[default0]:${a}[default1]:${b}`);
    expect(r.skipped).toEqual([]);
    expect(r.iterations.map((i) => [i.iteration, i.rankPrefix, i.timestamp, i.lmLoss, i.nanIterations])).toEqual([
      [40, "[default0]:", "2024-05-01T08:09:10", 5, 0],
      [50, "[default1]:", "2024-05-01T08:09:20", 4, 0],
    ]);
  });

  it("drops series whose every value is 0 and keeps the others", () => {
    const lines = [1, 2, 3].map((i) =>
      iterationLine({ iteration: i, losses: [["lm loss", 5], ["load_balancing_loss", 1.1], ["z_loss", 0], ["mtp_1 loss", i === 2 ? 0.5 : 0]] }),
    );
    const r = parseMegatronLogText(lines.join("\n"));
    expect(r.droppedAllZero).toEqual(["z_loss"]);
    expect(r.iterations.map((i) => i.losses)).toEqual([
      { load_balancing_loss: 1.1, "mtp_1 loss": 0 },
      { load_balancing_loss: 1.1, "mtp_1 loss": 0.5 },
      { load_balancing_loss: 1.1, "mtp_1 loss": 0 },
    ]);
  });

  it("accepts CRLF line endings and truncates skipped text to 200 characters", () => {
    const bad = " iteration  9x/ 10 | " + "x".repeat(300);
    const r = parseMegatronLogText(`${iterationLine({ iteration: 1 })}\r\n${bad}\r\n`);
    expect(r.iterations[0].nanIterations).toBe(0);
    expect(r.skipped[0].text).toHaveLength(200);
  });

  it("keeps at most maxSkippedKept entries but counts all of them", () => {
    const parser = createMegatronLogParser({ maxSkippedKept: 2 });
    for (let i = 0; i < 5; i++) parser.push(" iteration  bad/ 10 | consumed samples: 1 |");
    const r = parser.finish();
    expect(r.skipped).toHaveLength(2);
    expect(r.skippedByReason).toEqual({ "malformed iteration header": 5 });
  });
});

describe("parseMegatronLog memory lines (report_memory)", () => {
  const mb = { allocated: 1024.5, maxAllocated: 2048.25, reserved: 4096, maxReserved: 8192 };
  const cases: Array<{ name: string; line: string; want: object }> = [
    {
      name: ".2f format with total device memory (2026-01 on)",
      line: memoryLine(3, "(after 100 iterations)", { ...mb, total: 9000 }),
      want: { rank: 3, iteration: 100, allocatedMB: 1024.5, maxAllocatedMB: 2048.25, reservedMB: 4096, maxReservedMB: 8192, totalDeviceMemoryUsedMB: 9000 },
    },
    {
      name: "raw float format (before 2026-01)",
      line: memoryLine(0, "(after 2 iterations)", { ...mb, allocated: 13182.66748046875 }, true),
      want: { rank: 0, iteration: 2, allocatedMB: 13182.66748046875, label: "after 2 iterations" },
    },
    {
      name: "before a checkpoint save",
      line: memoryLine(8, "(before save_checkpoint for iteration 500)", mb),
      want: { rank: 8, iteration: 500, label: "before save_checkpoint for iteration 500" },
    },
    { name: "behind a launcher prefix", line: "[default0]:" + memoryLine(0, "(after 5 iterations)", mb), want: { rank: 0, iteration: 5 } },
  ];
  it.each(cases)("$name", ({ line, want }) => {
    const r = parseMegatronLogText(line);
    expect(r.skipped).toEqual([]);
    expect(r.memory).toHaveLength(1);
    expect(r.memory[0]).toMatchObject(want);
  });

  it("skips malformed memory lines and de-duplicates repeats of one rank", () => {
    const good = memoryLine(0, "(after 5 iterations)", mb);
    const r = parseMegatronLogText(
      [good, good, memoryLine(1, "(after 5 iterations)", mb), "[Rank 0] (after 6 iterations) memory (MB) | allocated: 1.0", "[Rank 0] (startup) memory (MB) | allocated: 1.0"].join("\n"),
    );
    expect(r.memory.map((m) => m.rank)).toEqual([0, 1]);
    expect(r.duplicates.memory).toBe(1);
    expect(r.skipped.map((s) => s.reason)).toEqual(["malformed memory line", "memory line without an iteration"]);
  });
});

describe("parseMegatronLog arguments block (_print_args)", () => {
  const args = {
    num_experts: "64",
    moe_router_topk: "2",
    moe_layer_freq: "[0, 1, 1, 1]",
    moe_aux_loss_coeff: "0.01",
    expert_model_parallel_size: "4",
    moe_expert_capacity_factor: "None",
    a_very_long_argument_name_that_takes_all_the_dots_x: "True",
  };

  it("reads name/value pairs behind launcher prefixes, ignoring interleaved output", () => {
    const block = argumentsBlock(args).map((l) => `[default0]:${l}`);
    block.splice(3, 0, "[default3]:some other rank printing NCCL INFO");
    const r = parseMegatronLogText([...block, iterationLine({ iteration: 1 })].join("\n"));
    expect(r.arguments).toEqual(args);
    expect(r.argumentBlocks).toBe(1);
    expect(r.iterations).toHaveLength(1);
  });

  it("reads the 32-wide dots of older Megatron, keeps the first of several blocks", () => {
    const r = parseMegatronLogText([...argumentsBlock({ num_layers: "24" }, 32), ...argumentsBlock({ num_layers: "48" })].join("\n"));
    expect(r.arguments).toEqual({ num_layers: "24" });
    expect(r.argumentBlocks).toBe(2);
  });

  it("does not swallow the log when the end marker is missing", () => {
    const block = argumentsBlock({ num_layers: "24" }).slice(0, -1);
    const r = parseMegatronLogText([...block, iterationLine({ iteration: 3 }), memoryLine(0, "(after 3 iterations)", { allocated: 1, maxAllocated: 1, reserved: 1, maxReserved: 1 })].join("\n"));
    expect(r.arguments).toEqual({ num_layers: "24" });
    expect(r.iterations.map((i) => i.iteration)).toEqual([3]);
    expect(r.memory).toHaveLength(1);
  });
});
