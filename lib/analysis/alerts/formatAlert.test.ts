import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_RULES } from "./alertRules";
import { formatAlertMessage } from "./formatAlert";

describe("formatAlertMessage", () => {
  it("names the layer, the worst EP rank, the ratio, the step and the threshold", () => {
    expect(
      formatAlertMessage(DEFAULT_ALERT_RULES["ep-imbalance-high"], { runName: "mixtral", layer: 17, rank: null, value: 3.1, step: 150, labels: { edp: 2, epRank: 5 } }),
    ).toBe("mixtral: layer 17: EP rank 5 of dispatch group edp 2 receives 3.10x its group's mean tokens at step 150 (threshold 2.00x)");
  });
  it("shows memory in GiB and percent", () => {
    expect(
      formatAlertMessage(DEFAULT_ALERT_RULES["memory-headroom-low"], {
        runName: "r", layer: null, rank: 37, value: 71 / 80, step: 212, labels: { peakAllocatedBytes: 71 * 2 ** 30, gpuMemoryBytes: 80 * 2 ** 30 },
      }),
    ).toBe("r: rank 37: peak memory 71.0 GiB of 80.0 GiB (89%) at step 212 (threshold 92%)");
  });
});
