import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_RULES, parseRuleOverrides, resolveAlertRules } from "./alertRules";

describe("parseRuleOverrides", () => {
  it("accepts a partial override of some rules", () => {
    expect(parseRuleOverrides({ "ep-imbalance-high": { threshold: 1.8, forMs: 5000 } }, "file")).toEqual({
      "ep-imbalance-high": { threshold: 1.8, forMs: 5000 },
    });
    expect(parseRuleOverrides(undefined, "file")).toEqual({});
  });
  const bad: Array<[string, unknown, RegExp]> = [
    ["unknown rule", { "no-such-rule": { threshold: 1 } }, /no-such-rule/],
    ["unknown field", { oom: { colour: "red" } }, /oom/],
    ["wrong type", { "maxvio-high": { threshold: "high" } }, /maxvio-high\.threshold/],
    ["negative hold", { "maxvio-high": { forMs: -1 } }, /maxvio-high\.forMs/],
    ["bad no-data policy", { "rank-silent": { noData: "panic" } }, /rank-silent\.noData/],
  ];
  for (const [name, input, msg] of bad) {
    it(`rejects ${name}, naming where`, () => expect(() => parseRuleOverrides(input, "alert rules file x.json")).toThrow(msg));
  }
});

describe("resolveAlertRules", () => {
  it("applies layers in order over the defaults", () => {
    const r = resolveAlertRules({ "maxvio-high": { threshold: 2, forMs: 1 } }, { "maxvio-high": { threshold: 3 } });
    expect(r["maxvio-high"]).toEqual({ ...DEFAULT_ALERT_RULES["maxvio-high"], threshold: 3, forMs: 1 });
    expect(r.oom).toEqual(DEFAULT_ALERT_RULES.oom);
  });
});
