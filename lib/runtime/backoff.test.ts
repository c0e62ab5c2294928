import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff";

describe("backoffDelayMs", () => {
  const noJitter = () => 0;
  const fullJitter = () => 0.999999;
  it.each([
    { name: "first retry waits `first`", attempt: 0, hint: 0, random: noJitter, want: 100 },
    { name: "doubles per attempt", attempt: 3, hint: 0, random: noJitter, want: 800 },
    { name: "capped at max", attempt: 12, hint: 0, random: noJitter, want: 2_000 },
    { name: "never below the server's hint", attempt: 0, hint: 1_500, random: noJitter, want: 1_500 },
    { name: "a hint above max still wins", attempt: 20, hint: 5_000, random: noJitter, want: 5_000 },
    { name: "jitter adds up to half", attempt: 1, hint: 0, random: fullJitter, want: 300 },
    { name: "a garbage hint is ignored", attempt: 0, hint: Number.NaN, random: noJitter, want: 100 },
  ])("$name", ({ attempt, hint, random, want }) => {
    expect(backoffDelayMs(attempt, [100, 2_000], hint, random)).toBe(want);
  });
});
