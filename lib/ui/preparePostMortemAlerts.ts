import type { OomPostMortemDto } from "../dto";
import { formatRatio } from "./formatCount";
import { alertWhere } from "./prepareAlerts";

/** PostMortemAlertItem: one alert that overlapped the window, as the post-mortem lists it. */
export interface PostMortemAlertItem {
  id: string;
  ruleId: string;
  severity: "warning" | "critical";
  where: string;
  relevant: boolean;
  /** "fired at step 60 (value 2.31)". */
  fired: string;
  /** "still firing at the OOM" or "resolved by step 80". */
  state: string;
  firingAtOom: boolean;
  message: string;
}

/** preparePostMortemAlerts lists the window's alerts: those on the rank, its layers or the run first, then by firing step. */
export function preparePostMortemAlerts(dto: Pick<OomPostMortemDto, "alerts">): PostMortemAlertItem[] {
  return [...dto.alerts]
    .sort((a, b) => Number(b.relevant) - Number(a.relevant) || a.step - b.step || a.ruleId.localeCompare(b.ruleId))
    .map((a) => ({
      id: a.id,
      ruleId: a.ruleId,
      severity: a.severity,
      where: alertWhere(a),
      relevant: a.relevant,
      fired: `fired at step ${a.step} (value ${formatRatio(a.value)})`,
      state: a.endStep === null ? "still firing at the OOM" : `resolved by step ${a.endStep}`,
      firingAtOom: a.endStep === null,
      message: a.message,
    }));
}
