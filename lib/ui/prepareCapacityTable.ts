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

/** CapacityRankRow: one source rank of a layer: its capacity C (and m×C when summed over micro-batches) and drops. */
export interface CapacityRankRow {
  rank: number;
  /** e.g. "C 14" or "C 14 · 4×C 56". */
  capacity: string;
  dropPercent: string;
  dropped: number;
  assignments: number;
  cfNeeded: string;
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
  /** Source ranks, most dropped first (at most MAX_RANK_ROWS). */
  ranks: CapacityRankRow[];
  /** How many source ranks the layer has (ranks may hold fewer rows). */
  rankCount: number;
  /** The rank that drops the largest share, when any rank drops. */
  worstRank: CapacityRankRow | null;
}

/** MAX_RANK_ROWS: per-rank rows kept per layer (the most-dropping ones). */
export const MAX_RANK_ROWS = 32;

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

function perRankOf(perRank: CapacityWhatIfDto["layers"][number]["perRank"]): Pick<CapacityRow, "ranks" | "rankCount" | "worstRank"> {
  const sorted = [...perRank].sort((a, b) => b.dropFraction - a.dropFraction || b.dropped - a.dropped || a.rank - b.rank);
  const ranks = sorted.slice(0, MAX_RANK_ROWS).map(rankRow);
  return { ranks, rankCount: perRank.length, worstRank: sorted.length > 0 && sorted[0].dropped > 0 ? ranks[0] : null };
}

function rankRow(r: CapacityWhatIfDto["layers"][number]["perRank"][number]): CapacityRankRow {
  return {
    rank: r.rank,
    capacity: r.microBatches > 1 ? `C ${r.capacityPerMicroBatch} · ${r.microBatches}×C ${r.capacityPerExpert}` : `C ${r.capacityPerMicroBatch}`,
    dropPercent: formatDropPercent(r.dropFraction),
    dropped: r.dropped,
    assignments: r.assignments,
    cfNeeded: r.capacityFactorForZeroDrops.toFixed(2),
  };
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
    ...perRankOf(l.perRank),
  }));
  // "Worst layer: L1 drops 0%" says nothing: a worst layer is named only when some layer drops.
  let worst: CapacityModel["worst"] = null;
  let worstFraction = 0;
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
