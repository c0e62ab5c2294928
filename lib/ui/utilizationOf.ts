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

/** utilizationOf computes share and utilization (load / mean) of one load vector, as DESIGN.md defines them. */
export function utilizationOf(load: readonly number[]): LoadStats {
  const n = load.length;
  let total = 0;
  for (const v of load) total += v;
  const mean = n > 0 ? total / n : 0;
  const share = new Array<number>(n);
  const utilization = new Array<number>(n);
  let maxUtilization = Number.NaN;
  let dead = 0;
  for (let e = 0; e < n; e++) {
    if (total > 0) {
      share[e] = load[e] / total;
      utilization[e] = load[e] / mean;
      if (!(utilization[e] <= maxUtilization)) maxUtilization = utilization[e];
      if (utilization[e] < 0.1) dead += 1;
    } else {
      share[e] = Number.NaN;
      utilization[e] = Number.NaN;
    }
  }
  return { total, mean, share, utilization, maxUtilization, dead };
}
