import type { AlertDto } from "../dto";

/** FiringSummary: how many (run, rule) alert groups and alerts fire, and whether any is critical. */
export interface FiringSummary {
  count: number;
  alerts: number;
  critical: boolean;
}

/** summarizeFiring counts firing alerts by (run, rule) group, as the banner and /alerts list them. */
export function summarizeFiring(list: ReadonlyArray<Pick<AlertDto, "runId" | "ruleId" | "severity">>): FiringSummary {
  return { count: new Set(list.map((a) => `${a.runId}|${a.ruleId}`)).size, alerts: list.length, critical: list.some((a) => a.severity === "critical") };
}
