import { describe, expect, it } from "vitest";
import { configRows } from "../analysis/configRows";
import { prepareLayerStrip } from "./prepareLayerStrip";
import { createThrottle, type Scheduler } from "./createThrottle";
import { formatExpertRange } from "./formatExpertRange";
import type { RunConfig } from "../analysis/types";

describe("configRows", () => {
  const config: RunConfig = {
    num_layers: 4,
    num_experts: 64,
    moe_router_topk: 6,
    moe_layer_freq: "([0]+[1]*3)",
    tensor_model_parallel_size: 2,
    pipeline_model_parallel_size: 1,
    context_parallel_size: 1,
    expert_model_parallel_size: 8,
    sequence_parallel: true,
    recompute_modules: ["moe", "layernorm"],
    extra: { lr: "1e-4" },
  };
  const rows = configRows(config);
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));

  it("keeps Megatron's argument names and groups them", () => {
    expect(byName.num_experts).toEqual({ name: "num_experts", value: "64", group: "MoE", defaulted: false });
    expect(byName.sequence_parallel.value).toBe("true");
    expect(byName.recompute_modules.value).toBe("moe layernorm");
    expect(byName.moe_layer_freq.value).toBe("([0]+[1]*3)");
  });
  it("fills Megatron's defaults and marks them", () => {
    expect(byName.expert_tensor_parallel_size).toEqual({
      name: "expert_tensor_parallel_size",
      value: "2",
      group: "Parallelism",
      defaulted: true,
    });
    expect(byName.moe_router_load_balancing_type.value).toBe("aux_loss");
  });
  it("lists extra arguments under Other", () => {
    expect(byName.lr).toEqual({ name: "lr", value: "1e-4", group: "Other", defaulted: false });
    expect(byName.extra).toBeUndefined();
  });
});

describe("prepareLayerStrip", () => {
  it("groups layers by stage and counts MoE vs dense", () => {
    const m = prepareLayerStrip([
      { layer: 3, moe: true, stage: 1 },
      { layer: 1, moe: false, stage: 0 },
      { layer: 2, moe: true, stage: 0 },
      { layer: 4, moe: true, stage: 1 },
    ]);
    expect(m.stages.map((s) => [s.stage, s.layers.map((l) => l.layer), s.moeCount])).toEqual([
      [0, [1, 2], 1],
      [1, [3, 4], 2],
    ]);
    expect(m.moeCount).toBe(3);
    expect(m.denseCount).toBe(1);
  });
});

describe("createThrottle", () => {
  function fakeScheduler() {
    let t = 0;
    const timers: Array<{ at: number; fn: () => void; id: number }> = [];
    let nextId = 1;
    const s: Scheduler & { advance(ms: number): void } = {
      now: () => t,
      setTimeout: (fn, ms) => {
        const id = nextId++;
        timers.push({ at: t + ms, fn, id });
        return id;
      },
      clearTimeout: (id) => {
        const i = timers.findIndex((x) => x.id === id);
        if (i >= 0) timers.splice(i, 1);
      },
      advance(ms) {
        t += ms;
        for (const timer of [...timers].sort((a, b) => a.at - b.at)) {
          if (timer.at <= t) {
            timers.splice(timers.indexOf(timer), 1);
            timer.fn();
          }
        }
      },
    };
    return s;
  }

  it("runs at once, collapses a burst into one trailing call, and never exceeds the rate", () => {
    const s = fakeScheduler();
    let calls = 0;
    const th = createThrottle(() => calls++, 500, s);
    th();
    expect(calls).toBe(1);
    s.advance(100);
    th();
    th();
    th();
    expect(calls).toBe(1);
    s.advance(399);
    expect(calls).toBe(1);
    s.advance(1);
    expect(calls).toBe(2);
    s.advance(1000);
    expect(calls).toBe(2);
    th();
    expect(calls).toBe(3);
  });

  it("cancel drops the pending trailing call", () => {
    const s = fakeScheduler();
    let calls = 0;
    const th = createThrottle(() => calls++, 500, s);
    th();
    th();
    th.cancel();
    s.advance(1000);
    expect(calls).toBe(1);
  });
});

describe("formatExpertRange", () => {
  it.each([
    { range: [4, 5], want: "4" },
    { range: [4, 8], want: "4–7" },
    { range: [0, 2], want: "0–1" },
  ])("[$range.0, $range.1) -> $want", ({ range, want }) => {
    expect(formatExpertRange(range)).toBe(want);
  });
});
