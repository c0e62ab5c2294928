import type { CapacityWhatIfDto } from "../dto";

/** CAPACITY_FACTOR_RANGE: what the what-if slider offers. */
export const CAPACITY_FACTOR_RANGE = { min: 0.5, max: 4, step: 0.05 } as const;

/** DEFAULT_CAPACITY_FACTOR: the slider's start when neither the URL nor the run names one. */
export const DEFAULT_CAPACITY_FACTOR = 1.25;

/** clampCapacityFactor snaps a capacity factor to the slider's grid (0.05) inside 0.5..4. */
export function clampCapacityFactor(v: number): number {
  const { min, max, step } = CAPACITY_FACTOR_RANGE;
  const snapped = Math.round(v / step) * step;
  return Number(Math.min(max, Math.max(min, snapped)).toFixed(2));
}

/** parseCapacityFactor reads ?cf=; absent or unparsable values give `fallback`, others are clamped and snapped. */
export function parseCapacityFactor(raw: string | string[] | undefined | null, fallback: number = DEFAULT_CAPACITY_FACTOR): number {
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v == null || v.trim() === "") return clampCapacityFactor(fallback);
  const n = Number(v);
  return Number.isFinite(n) ? clampCapacityFactor(n) : clampCapacityFactor(fallback);
}

/** CapacityRow: one MoE layer of the what-if table. */
export interface CapacityRow {
  layer: number;
  dropPercent: string;
  /** Bar width in [0, 1], relative to the worst layer shown (at least 1% of assignments). */
  barWidth: number;
  dropped: number;
  assignments: number;
  cfNeeded: string;
  /** True when the chosen factor already covers this layer's need. */
  covered: boolean;
  estimate: boolean;
  basis: "before-drop" | "dispatched";
  basisLabel: string;
}

/** CapacityModel: the table plus the summary line. */
export interface CapacityModel {
  step: number | null;
  capacityFactor: number;
  configured: number | null;
  rows: CapacityRow[];
  worst: { layer: number; dropPercent: string } | null;
  anyEstimate: boolean;
  /** The distinct count bases used (normally one). */
  bases: string[];
}

const BASIS_LABEL: Record<CapacityRow["basis"], string> = {
  "before-drop": "counts before dropping",
  dispatched: "dispatched counts (after any dropping)",
};

/** formatDropPercent renders a drop fraction: exact zero as "0%", tiny ones as "<0.01%". */
export function formatDropPercent(f: number): string {
  if (!Number.isFinite(f)) return "–";
  if (f === 0) return "0%";
  if (f < 0.0001) return "<0.01%";
  return `${(f * 100).toFixed(f < 0.01 ? 2 : 1)}%`;
}

/** prepareCapacityTable formats the server's what-if per layer: drop %, the factor needed for zero drops, the basis. */
export function prepareCapacityTable(dto: CapacityWhatIfDto): CapacityModel {
  const maxFraction = Math.max(0.01, ...dto.layers.map((l) => l.dropFraction));
  const rows = dto.layers.map((l): CapacityRow => ({
    layer: l.layer,
    dropPercent: formatDropPercent(l.dropFraction),
    barWidth: Math.min(1, l.dropFraction / maxFraction),
    dropped: l.dropped,
    assignments: l.assignments,
    cfNeeded: l.capacityFactorForZeroDrops.toFixed(2),
    covered: l.dropped === 0,
    estimate: l.estimate,
    basis: l.basis,
    basisLabel: BASIS_LABEL[l.basis],
  }));
  let worst: CapacityModel["worst"] = null;
  let worstFraction = -1;
  for (const l of dto.layers) {
    if (l.dropFraction > worstFraction) {
      worstFraction = l.dropFraction;
      worst = { layer: l.layer, dropPercent: formatDropPercent(l.dropFraction) };
    }
  }
  return {
    step: dto.step,
    capacityFactor: dto.capacityFactor,
    configured: dto.configuredCapacityFactor,
    rows,
    worst,
    anyEstimate: rows.some((r) => r.estimate),
    bases: [...new Set(rows.map((r) => r.basisLabel))],
  };
}
