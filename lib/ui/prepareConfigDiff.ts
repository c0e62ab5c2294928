import type { CompareDto } from "../dto";
import { formatBytes } from "./formatBytes";

/** configValueText shows a byte count as "80.0 GiB (85899345920)" and anything else as it is. */
export function configValueText(name: string, v: string | null): string {
  if (v === null) return "–";
  if (/_bytes$/.test(name) && /^\d+$/.test(v)) return `${formatBytes(Number(v))} (${v})`;
  return v;
}

/** ConfigDiffRow: one argument across the compared runs; "–" where a run does not set it. */
export interface ConfigDiffRow {
  name: string;
  group: string;
  values: string[];
  differs: boolean;
}

/** ConfigDiffModel: rows (differences first when asked) and how many arguments differ. */
export interface ConfigDiffModel {
  rows: ConfigDiffRow[];
  differing: number;
  total: number;
}

/** prepareConfigDiff formats the config diff, optionally keeping only the arguments that differ, differences first. */
export function prepareConfigDiff(config: CompareDto["config"], opts: { onlyDiffs?: boolean } = {}): ConfigDiffModel {
  const rows = config
    .filter((c) => !opts.onlyDiffs || c.differs)
    .map((c) => ({ name: c.name, group: c.group, values: c.values.map((v) => configValueText(c.name, v)), differs: c.differs }));
  // Stable: differences first, otherwise the server's order (grouped as the config panel groups them).
  const sorted = rows.map((r, i) => ({ r, i })).sort((a, b) => Number(b.r.differs) - Number(a.r.differs) || a.i - b.i).map((x) => x.r);
  return { rows: sorted, differing: config.filter((c) => c.differs).length, total: config.length };
}
