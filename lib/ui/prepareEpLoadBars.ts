import type { EpLoadDto } from "../dto";

/** EpLoadBar: one EP rank's received tokens in its dispatch group. */
export interface EpLoadBar {
  epRank: number;
  received: number;
  /** received / the group's mean (shown in the tooltip). */
  ofMean: number | null;
  /** Bar height as a fraction of the tallest bar over all groups shown. */
  height: number;
  /** What the router sent toward this EP rank before capacity dropping; null without counts before dropping. */
  demand: number | null;
  /** Demand marker height, same scale as the bars. */
  demandHeight: number | null;
  worst: boolean;
}

/** EpLoadGroup: one (edp, pp) dispatch group. */
export interface EpLoadGroup {
  key: string;
  label: string;
  edp: number;
  pp: number;
  mean: number;
  /** Mean line height, same scale as the bars. */
  meanHeight: number;
  ratio: number | null;
  partial: boolean;
  /** e.g. "3/4 ranks reported" when partial. */
  partialLabel: string | null;
  worst: boolean;
  bars: EpLoadBar[];
}

/** EpLoadBarsModel: groups to draw (worst first), how many were left out, and the summary line's numbers. */
export interface EpLoadBarsModel {
  step: number;
  layer: number;
  ep: number;
  etp: number;
  expertsPerEpRank: number;
  groups: EpLoadGroup[];
  /** Tokens at the top of every group's plot (the shared scale's maximum); 0 when nothing was received. */
  axisMax: number;
  hiddenGroups: number;
  totalGroups: number;
  epImbalance: number | null;
  /** Worst demand (pre-drop) over its group's mean; null without counts before dropping. */
  demandImbalance: number | null;
  /** True when demand markers are drawn (some rank sent counts before dropping). */
  showDemand: boolean;
  worst: EpLoadDto["worst"];
  mismatches: EpLoadDto["mismatches"];
}

/**
 * prepareEpLoadBars lays out the EP-rank loads the server computed: one bar group per dispatch group,
 * bars (received, post-drop) and demand markers (pre-drop, when sent) on one shared scale, the worst group first (then by edp, pp), at most `maxGroups` groups.
 */
export function prepareEpLoadBars(dto: EpLoadDto, maxGroups = 16): EpLoadBarsModel {
  const isWorstGroup = (g: { edp: number; pp: number }) => dto.worst != null && g.edp === dto.worst.edp && g.pp === dto.worst.pp;
  const sorted = [...dto.groups].sort(
    (a, b) => Number(isWorstGroup(b)) - Number(isWorstGroup(a)) || (b.ratio ?? -1) - (a.ratio ?? -1) || a.pp - b.pp || a.edp - b.edp,
  );
  const shown = sorted.slice(0, maxGroups);
  let top = 0;
  for (const g of shown) for (const r of [...g.received, ...(g.demand ?? [])]) top = Math.max(top, r);
  const scale = (v: number) => (top > 0 ? v / top : 0);
  const groups = shown.map((g): EpLoadGroup => {
    const worstGroup = isWorstGroup(g);
    const partial = g.ranksReported < g.ranksExpected;
    return {
      key: `${g.edp}/${g.pp}`,
      label: `edp ${g.edp} · pp ${g.pp}`,
      edp: g.edp,
      pp: g.pp,
      mean: g.mean,
      meanHeight: scale(g.mean),
      ratio: g.ratio,
      partial,
      partialLabel: partial ? `${g.ranksReported}/${g.ranksExpected} ranks reported` : null,
      worst: worstGroup,
      bars: g.received.map((received, epRank) => ({
        epRank,
        received,
        ofMean: g.mean > 0 ? received / g.mean : null,
        height: scale(received),
        demand: g.demand?.[epRank] ?? null,
        demandHeight: g.demand ? scale(g.demand[epRank]) : null,
        worst: worstGroup && dto.worst!.epRank === epRank,
      })),
    };
  });
  return {
    step: dto.step,
    layer: dto.layer,
    ep: dto.ep,
    etp: dto.etp,
    expertsPerEpRank: dto.expertsPerEpRank,
    groups,
    axisMax: top,
    hiddenGroups: sorted.length - shown.length,
    totalGroups: sorted.length,
    epImbalance: dto.epImbalance,
    demandImbalance: dto.demandImbalance,
    showDemand: dto.groups.some((g) => g.demand !== null),
    worst: dto.worst,
    mismatches: dto.mismatches,
  };
}
