import type { ScalarSeriesDto } from "../dto";
import { CHART_COLORS } from "./chartColors";

/** ScalarPanel: one run-level series ready for a small line chart. */
export interface ScalarPanel {
  name: string;
  color: string;
  rows: Array<{ step: number; value: number; band: [number, number] }>;
  last: { step: number; value: number } | null;
}

// The series a user looks at first; the rest follow by name.
const ORDER = ["lm loss", "load_balancing_loss", "seq_load_balancing_loss", "global_load_balancing_loss", "z_loss"];

/** prepareScalarPanels picks the run-level series (layer 0) of a ScalarSeriesDto, known losses first. */
export function prepareScalarPanels(dto: ScalarSeriesDto | null): ScalarPanel[] {
  if (!dto) return [];
  const rank = (name: string) => {
    const i = ORDER.indexOf(name);
    return i === -1 ? ORDER.length : i;
  };
  return dto.series
    .filter((s) => s.layer === 0 && s.points.length > 0)
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name))
    .map((s, i) => ({
      name: s.name,
      color: CHART_COLORS[i % CHART_COLORS.length],
      rows: s.points.map((p) => ({ step: p.step, value: p.value, band: [p.min, p.max] as [number, number] })),
      last: { step: s.points[s.points.length - 1].step, value: s.points[s.points.length - 1].value },
    }));
}
