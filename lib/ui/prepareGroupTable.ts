import type { OomPostMortemDto } from "../dto";
import { formatBytes } from "./formatBytes";
import { formatCount, formatRatio } from "./formatCount";

/** GroupTableRow: one rank of the dying rank's dispatch group, formatted. */
export interface GroupTableRow {
  rank: number;
  epRank: number;
  etpRank: number;
  dying: boolean;
  /** Busiest EP rank at the worst (layer, step). */
  busiest: boolean;
  receivedAtWorst: string;
  ratioAtWorst: string;
  maxRatio: string;
  meanRatio: string;
  lastPeak: string;
  maxPeak: string;
  /** Severity class of ratioAtWorst: >= 2 danger, >= 1.3 warn. */
  level: "danger" | "warn" | "ok" | "none";
}

/** prepareGroupTable orders the group's ranks by EP rank (then ETP rank) and formats their load and memory. */
export function prepareGroupTable(dto: Pick<OomPostMortemDto, "group">): GroupTableRow[] {
  const top = Math.max(...dto.group.map((g) => g.ratioAtWorst ?? Number.NEGATIVE_INFINITY));
  return [...dto.group]
    .sort((a, b) => a.epRank - b.epRank || a.etpRank - b.etpRank)
    .map((g) => ({
      rank: g.rank,
      epRank: g.epRank,
      etpRank: g.etpRank,
      dying: g.dying,
      busiest: g.ratioAtWorst !== null && g.ratioAtWorst === top,
      receivedAtWorst: g.receivedAtWorst === null ? "–" : formatCount(g.receivedAtWorst),
      ratioAtWorst: g.ratioAtWorst === null ? "–" : `${formatRatio(g.ratioAtWorst)}×`,
      maxRatio: g.maxRatio === null ? "–" : `${formatRatio(g.maxRatio)}×`,
      meanRatio: g.meanRatio === null ? "–" : `${formatRatio(g.meanRatio)}×`,
      lastPeak: formatBytes(g.lastPeakBytes),
      maxPeak: formatBytes(g.maxPeakBytes),
      level: g.ratioAtWorst === null ? "none" : g.ratioAtWorst >= 2 ? "danger" : g.ratioAtWorst >= 1.3 ? "warn" : "ok",
    }));
}
