import { describe, expect, it } from "vitest";
import { ALERT_RULE_IDS, DEFAULT_ALERT_RULES, resolveAlertRules } from "../analysis/alerts/alertRules";
import type { AlertRulesDto } from "../dto";
import { buildRuleOverrides, draftsFromOverrides, prepareAlertRules } from "./prepareAlertRules";

const overrides = { "ep-imbalance-high": { threshold: 1.3, forSteps: 2 }, oom: { enabled: false } };
const DTO: AlertRulesDto = { runId: null, defaults: DEFAULT_ALERT_RULES, overrides, effective: resolveAlertRules(overrides) };

describe("prepareAlertRules", () => {
  const rows = prepareAlertRules(DTO);
  it("has every rule, in the product's order", () => {
    expect(rows.map((r) => r.id)).toEqual([...ALERT_RULE_IDS]);
  });
  it("shows default, override and effective per field", () => {
    const ep = rows.find((r) => r.id === "ep-imbalance-high")!;
    const cell = (f: string) => ep.cells.find((c) => c.field === f)!;
    expect(cell("threshold")).toMatchObject({ defaultText: "2", overrideText: "1.3", effectiveText: "1.3", changed: true });
    expect(cell("forSteps")).toMatchObject({ defaultText: "5", overrideText: "2", effectiveText: "2", changed: true });
    expect(cell("keepFiringSteps")).toMatchObject({ defaultText: "20", overrideText: null, changed: false });
    expect(cell("keepFiringMs")).toMatchObject({ defaultText: "120000 (2 min)", overrideText: null, changed: false });
    expect(ep.overridden).toBe(true);
  });
  it("spells out forever and booleans", () => {
    const oom = rows.find((r) => r.id === "oom")!;
    expect(oom.cells.find((c) => c.field === "keepFiringMs")!.defaultText).toBe("forever");
    expect(oom.cells.find((c) => c.field === "enabled")).toMatchObject({ defaultText: "true", effectiveText: "false", changed: true });
  });
});

describe("draftsFromOverrides / buildRuleOverrides", () => {
  it("round-trips stored overrides", () => {
    const body = buildRuleOverrides(draftsFromOverrides(overrides));
    expect(body["ep-imbalance-high"]).toEqual({ threshold: 1.3, forSteps: 2 });
    expect(body.oom).toEqual({ enabled: false });
    expect(body["maxvio-high"]).toEqual({});
    expect(Object.keys(body)).toEqual([...ALERT_RULE_IDS]);
  });
  it("leaves blanks out and keeps fields the editor does not show", () => {
    const body = buildRuleOverrides({ "z-loss-spike": { threshold: " ", severity: "critical" } }, { "z-loss-spike": { window: 50, threshold: 3 } });
    expect(body["z-loss-spike"]).toEqual({ window: 50, severity: "critical" });
  });
  it("sends what does not parse as typed, so the API names the field", () => {
    const body = buildRuleOverrides({ "maxvio-high": { forMs: "-5", threshold: "abc" } });
    expect(body["maxvio-high"]).toEqual({ forMs: -5, threshold: "abc" });
  });
});
