/**
 * The pure part of step bucketing: what one bucket of steps keeps about one layer (count, first and last
 * step, token sum, min/max/sum/count of every aggregate metric, each expert's min and max load) and how
 * two partial buckets combine. The raw-row path, the stored 64-step rollups and the display buckets all
 * fold through these two functions, so a spike is kept as the bucket's max whichever path a view takes.
 */

/** METRIC_COLUMNS: the LayerAggregate metric columns a bucket summarizes (also LayerRollup's column prefixes). */
export const METRIC_COLUMNS = [
  "maxVio",
  "cv",
  "entropy",
  "epImbalance",
  "loadBalancingLoss",
  "seqLoadBalancingLoss",
  "globalLoadBalancingLoss",
  "zLoss",
] as const;

/** MetricColumn: one LayerAggregate metric column. */
export type MetricColumn = (typeof METRIC_COLUMNS)[number];

/** MetricStats: min, max, sum and count of the non-null values of one metric in a bucket. */
export interface MetricStats {
  min: number | null;
  max: number | null;
  sum: number;
  n: number;
}

/** BucketStats: one layer over one bucket of steps. */
export interface BucketStats {
  layer: number;
  /** Bucket index: floor(step / bucketSize), aligned to step 0 so stored rollups nest inside it. */
  bucket: number;
  /** Aggregate rows (steps) folded in. */
  steps: number;
  firstStep: number;
  lastStep: number;
  tokens: number;
  metrics: Partial<Record<MetricColumn, MetricStats>>;
  /** Per-expert maximum and minimum of the global load, when the view asked for loads. */
  loadMax?: number[];
  loadMin?: number[];
}

/** AggregatePoint: the part of one LayerAggregate row a bucket folds in. */
export interface AggregatePoint {
  layer: number;
  step: number;
  tokens: number;
  metrics: Partial<Record<MetricColumn, number | null>>;
  load?: readonly number[];
}

/** emptyBucket starts a bucket with nothing folded in. */
export function emptyBucket(layer: number, bucket: number): BucketStats {
  return { layer, bucket, steps: 0, firstStep: Number.POSITIVE_INFINITY, lastStep: Number.NEGATIVE_INFINITY, tokens: 0, metrics: {} };
}

function foldValue(into: Partial<Record<MetricColumn, MetricStats>>, name: MetricColumn, s: MetricStats): void {
  if (s.n === 0) {
    if (!into[name]) into[name] = { min: null, max: null, sum: 0, n: 0 };
    return;
  }
  const t = into[name];
  if (!t || t.n === 0) {
    into[name] = { ...s };
    return;
  }
  t.min = s.min === null ? t.min : t.min === null ? s.min : Math.min(t.min, s.min);
  t.max = s.max === null ? t.max : t.max === null ? s.max : Math.max(t.max, s.max);
  t.sum += s.sum;
  t.n += s.n;
}

function foldLoads(b: BucketStats, max: readonly number[], min: readonly number[]): void {
  if (!b.loadMax || !b.loadMin) {
    b.loadMax = [...max];
    b.loadMin = [...min];
    return;
  }
  const n = Math.max(b.loadMax.length, max.length);
  for (let e = 0; e < n; e++) {
    b.loadMax[e] = Math.max(b.loadMax[e] ?? 0, max[e] ?? 0);
    b.loadMin[e] = Math.min(b.loadMin[e] ?? Number.POSITIVE_INFINITY, min[e] ?? Number.POSITIVE_INFINITY);
  }
}

/** foldPoint adds one step's aggregate to a bucket (in place). */
export function foldPoint(b: BucketStats, p: AggregatePoint): BucketStats {
  b.steps++;
  b.firstStep = Math.min(b.firstStep, p.step);
  b.lastStep = Math.max(b.lastStep, p.step);
  b.tokens += p.tokens;
  for (const [name, v] of Object.entries(p.metrics) as Array<[MetricColumn, number | null | undefined]>) {
    foldValue(b.metrics, name, v === null || v === undefined ? { min: null, max: null, sum: 0, n: 0 } : { min: v, max: v, sum: v, n: 1 });
  }
  if (p.load) foldLoads(b, p.load, p.load);
  return b;
}

/** mergeBucket adds a partial bucket (e.g. a stored 64-step rollup) to a bucket (in place). */
export function mergeBucket(into: BucketStats, part: BucketStats): BucketStats {
  if (part.steps === 0) return into;
  into.steps += part.steps;
  into.firstStep = Math.min(into.firstStep, part.firstStep);
  into.lastStep = Math.max(into.lastStep, part.lastStep);
  into.tokens += part.tokens;
  for (const [name, s] of Object.entries(part.metrics) as Array<[MetricColumn, MetricStats]>) foldValue(into.metrics, name, s);
  if (part.loadMax && part.loadMin) foldLoads(into, part.loadMax, part.loadMin);
  return into;
}

/** mean of a metric in a bucket, or null when no step had a value. */
export function meanOf(s: MetricStats | undefined): number | null {
  return s && s.n > 0 ? s.sum / s.n : null;
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/**
 * bucketFromSummaryRow reads a database row that summarizes a bucket (a grouped query or a stored rollup):
 * layer, steps, firstStep, lastStep, tokens and <metric>Min/Max/Sum/N for each metric.
 */
export function bucketFromSummaryRow(r: Record<string, unknown>, metrics: readonly MetricColumn[], bucket: number): BucketStats {
  const b: BucketStats = {
    layer: Number(r.layer),
    bucket,
    steps: Number(r.steps),
    firstStep: Number(r.firstStep),
    lastStep: Number(r.lastStep),
    tokens: Number(r.tokens ?? 0),
    metrics: {},
  };
  for (const m of metrics) {
    const n = Number(r[`${m}N`] ?? 0);
    b.metrics[m] = n === 0 ? { min: null, max: null, sum: 0, n: 0 } : { min: num(r[`${m}Min`]), max: num(r[`${m}Max`]), sum: Number(r[`${m}Sum`]), n };
  }
  return b;
}

/** RunLevelPoint: one bucket of a run-level series: the mean over MoE layers, with a min..max band. */
export interface RunLevelPoint {
  step: number;
  value: number;
  min: number;
  max: number;
}

/**
 * meanOverLayers turns per-(layer, bucket) stats of one metric into the run-level series Megatron logs per
 * step for a loss (its `load_balancing_loss` / `z_loss`: the mean over the MoE layers), over the layers that
 * reported. value = sum / count over every (step, layer) value of the bucket: exactly Megatron's per-step mean
 * with one step per bucket, the mean of those means when every step has the same layers. The band is the mean
 * over layers of each layer's min and max, which encloses every per-step mean of the bucket (no spike hidden).
 */
export function meanOverLayers(buckets: readonly BucketStats[], metric: MetricColumn): RunLevelPoint[] {
  const by = new Map<number, { first: number; sum: number; n: number; minSum: number; maxSum: number; layers: number }>();
  for (const b of buckets) {
    const s = b.metrics[metric];
    if (!s || s.n === 0 || s.min === null || s.max === null) continue;
    let acc = by.get(b.bucket);
    if (!acc) by.set(b.bucket, (acc = { first: b.firstStep, sum: 0, n: 0, minSum: 0, maxSum: 0, layers: 0 }));
    acc.first = Math.min(acc.first, b.firstStep);
    acc.sum += s.sum;
    acc.n += s.n;
    acc.minSum += s.min;
    acc.maxSum += s.max;
    acc.layers += 1;
  }
  return [...by.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, a]) => ({ step: a.first, value: a.sum / a.n, min: a.minSum / a.layers, max: a.maxSum / a.layers }));
}
