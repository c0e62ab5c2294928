import { describe, expect, it } from "vitest";
import { bandPath, linearScale, nearestIndex, niceTicks, polylinePath, tickStep } from "./chartGeometry";

const x = (step: number) => step * 10;
const y = (v: number) => 100 - v * 10;

describe("linearScale", () => {
  it.each([
    { name: "maps the domain onto the range", d: [0, 10], r: [0, 100], v: 2.5, want: 25 },
    { name: "inverts for a y axis", d: [0, 10], r: [200, 0], v: 10, want: 0 },
    { name: "extrapolates outside the domain", d: [0, 10], r: [0, 100], v: 20, want: 200 },
    { name: "a zero-width domain maps to the middle", d: [5, 5], r: [0, 100], v: 5, want: 50 },
  ])("$name", ({ d, r, v, want }) => {
    expect(linearScale(d[0], d[1], r[0], r[1])(v)).toBe(want);
  });
});

describe("niceTicks", () => {
  it.each([
    { name: "steps of 2 over 0..10", lo: 0, hi: 10, count: 5, integer: false, want: [0, 2, 4, 6, 8, 10] },
    { name: "fractional steps without float noise", lo: 0.95, hi: 1.42, count: 4, integer: false, want: [1, 1.1, 1.2, 1.3, 1.4] },
    { name: "a large step range", lo: 1, hi: 100000, count: 5, integer: true, want: [20000, 40000, 60000, 80000, 100000] },
    { name: "integer ticks never go below 1 apart", lo: 0, hi: 3, count: 10, integer: true, want: [0, 1, 2, 3] },
    { name: "one value when the domain is a point", lo: 7, hi: 7, count: 5, integer: false, want: [7] },
    { name: "reversed bounds", lo: 10, hi: 0, count: 2, integer: false, want: [0, 5, 10] },
    { name: "nothing for a non-finite domain", lo: 0, hi: Number.NaN, count: 5, integer: false, want: [] },
  ])("$name", ({ lo, hi, count, integer, want }) => {
    expect(niceTicks(lo, hi, count, integer)).toEqual(want);
  });
  it("tickStep is 1, 2 or 5 times a power of ten", () => {
    expect([tickStep(0, 7, 5), tickStep(0, 8, 5), tickStep(0, 0.03, 3), tickStep(0, 900, 2)]).toEqual([1, 2, 0.01, 500]);
  });
});

describe("polylinePath", () => {
  it("draws the points in order, in whole units", () => {
    expect(polylinePath([0, 2], [1.2, 1.04], x, y)).toBe("M0,88L20,90");
  });
  it("joins across missing values (a missing bucket is not a drop to zero)", () => {
    expect(polylinePath([0, 1, 2], [1, null, 2], x, y)).toBe("M0,90L20,80");
  });
  it("skips points the scales cannot place and is empty without any", () => {
    expect(polylinePath([0, 2], [1.2, 1.04], (s) => (s === 0 ? Number.NaN : s), y)).toBe("M2,90");
    expect(polylinePath([0, 1], [null, Number.NaN], x, y)).toBe("");
  });
});

describe("bandPath", () => {
  it("closes the area between the bounds: along the top, back along the bottom", () => {
    expect(bandPath([0, 1], [1, 2], [3, 4], x, y)).toBe("M0,70L10,60L10,80L0,90Z");
  });
  it("splits the band at a gap instead of spanning it", () => {
    expect(bandPath([0, 1, 2], [1, null, 1], [2, null, 2], x, y)).toBe("M0,80L0,90ZM20,80L20,90Z");
  });
  it("is empty without bounds", () => {
    expect(bandPath([0], [null], [null], x, y)).toBe("");
  });
});

describe("nearestIndex", () => {
  it.each([
    { name: "exact hit", xs: [0, 10, 20], v: 10, want: 1 },
    { name: "rounds to the closer neighbour", xs: [0, 10, 20], v: 16, want: 2 },
    { name: "before the first", xs: [0, 10, 20], v: -5, want: 0 },
    { name: "after the last", xs: [0, 10, 20], v: 99, want: 2 },
    { name: "a single value", xs: [4], v: 0, want: 0 },
    { name: "empty", xs: [], v: 0, want: -1 },
  ])("$name", ({ xs, v, want }) => {
    expect(nearestIndex(xs, v)).toBe(want);
  });
});
