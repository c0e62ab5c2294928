import { describe, expect, it } from "vitest";
import { MemoryGovernor, MIN_GC_GAP_MS } from "./MemoryGovernor";
import { Admission, DEFAULT_ADMISSION, RunRate } from "./admission";
import { Overloaded } from "../lib/analysis/errors";

const MB = 2 ** 20;

describe("MemoryGovernor", () => {
  it("collects above 60% of the bound, reports pressure only while RSS stays above 80% after that, and says when it ends", () => {
    let rss = 100 * MB;
    let now = 0;
    let gcs = 0;
    let reliefs = 0;
    let afterGc = 0;
    const g = new MemoryGovernor({ maxRssBytes: 1000 * MB, rss: () => rss, gc: () => { gcs++; rss = afterGc; }, now: () => now, onRelief: () => reliefs++ });
    g.sample();
    expect([gcs, g.underPressure]).toEqual([0, false]);
    // Garbage: a collection brings it back down, no pressure.
    rss = 700 * MB;
    afterGc = 300 * MB;
    g.sample();
    expect([gcs, g.underPressure]).toEqual([1, false]);
    // Live data: still high after the collection -> pressure.
    now += MIN_GC_GAP_MS;
    rss = 900 * MB;
    afterGc = 850 * MB;
    g.sample();
    expect([gcs, g.underPressure]).toEqual([2, true]);
    // No second collection within the gap; pressure holds between 60% and 80% (hysteresis).
    rss = 700 * MB;
    g.sample();
    expect([gcs, g.underPressure]).toEqual([2, true]);
    rss = 500 * MB;
    g.sample();
    expect([g.underPressure, reliefs]).toEqual([false, 1]);
  });
});

describe("Admission under memory pressure", () => {
  it("refuses and pauses while anything is held, and never when nothing is (ingest cannot wedge)", () => {
    let pressure = true;
    const a = new Admission({ ...DEFAULT_ADMISSION }, () => pressure);
    expect(a.over()).toBe(false);
    const first = a.admit(1_000);
    expect(a.over()).toBe(true);
    expect(() => a.admit(1_000)).toThrow(Overloaded);
    expect(() => a.admit(1_000)).toThrow(/COLLECTOR_MAX_RSS_BYTES 640\.0 MiB/);
    expect(a.refuseBeforeDecode("Write", 10)).toBeInstanceOf(Overloaded);
    let woken = 0;
    a.whenBelow(() => woken++);
    first.release();
    expect(woken).toBe(1);
    pressure = false;
    a.admit(1_000).release();
  });

  it("refuses Writes before decoding while the event loop is behind", () => {
    const a = new Admission({ ...DEFAULT_ADMISSION }, () => false, () => true);
    expect(a.refuseBeforeDecode("Write", 10)?.message).toMatch(/more than 1000 ms behind .*COLLECTOR_MAX_LOOP_DELAY_MS/);
    expect(a.refuseBeforeDecode("RegisterRun", 10)).toBeNull();
  });
});

describe("RunRate", () => {
  it("allows maxPerMinute new runs per project in any 60 s and says how long to wait", () => {
    let now = 1_000_000;
    const r = new RunRate(2, () => now);
    r.count("p");
    now += 10_000;
    r.count("p");
    expect(r.waitMs("p")).toBe(50_000);
    expect(r.waitMs("q")).toBe(0);
    now += 50_001;
    expect(r.waitMs("p")).toBe(0);
  });
});
