import { computeLayerMetrics } from "../analysis/computeLayerMetrics";

/** LoadStats: one vector of expert loads reduced to what the heatmaps show. */
export interface LoadStats {
  total: number;
  mean: number;
  /** share[e] = load[e] / total (NaN when total is 0). */
  share: number[];
  /** utilization[e] = load[e] / mean (NaN when total is 0). */
  utilization: number[];
  maxUtilization: number;
  /** Experts with utilization < 0.1 (only counted when there is any load). */
  dead: number;
}

/**
 * utilizationOf adapts the core's computeLayerMetrics (the same share, utilization and dead-expert
 * rule the collector and API use) to the heatmaps: no load means "no data" (NaN cells), not zeros.
 */
export function utilizationOf(load: readonly number[]): LoadStats {
  const m = computeLayerMetrics([...load]);
  if (m.total === 0) {
    const none = load.map(() => Number.NaN);
    return { total: 0, mean: m.mean, share: none, utilization: [...none], maxUtilization: Number.NaN, dead: 0 };
  }
  return {
    total: m.total,
    mean: m.mean,
    share: m.share,
    utilization: m.utilization,
    maxUtilization: Math.max(...m.utilization),
    dead: m.deadExperts.length,
  };
}
