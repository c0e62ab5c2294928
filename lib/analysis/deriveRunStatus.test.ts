import { describe, expect, it } from "vitest";
import { deriveRunStatus, STALE_AFTER_MS } from "./deriveRunStatus";

describe("deriveRunStatus", () => {
  const now = 1_000_000;
  const cases: Array<[string, string, number | null, string]> = [
    ["stored end states win", "oom", now - 10 * STALE_AFTER_MS, "oom"],
    ["finished", "finished", now, "finished"],
    ["crashed", "crashed", null, "crashed"],
    ["running with recent data", "running", now - 1_000, "running"],
    ["running before any data", "running", null, "running"],
    ["silent just past the limit is stale", "running", now - STALE_AFTER_MS - 1, "stale"],
    ["silent exactly at the limit is still running", "running", now - STALE_AFTER_MS, "running"],
  ];
  for (const [name, stored, last, expected] of cases) {
    it(name, () => expect(deriveRunStatus(stored, last, now)).toBe(expected));
  }
});
