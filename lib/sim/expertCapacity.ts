/**
 * Capacity dropping for the simulator (only when a capacity factor is set).
 * Megatron: moe_utils.py apply_router_token_dropping calls get_capacity(num_tokens * topk, E, cf), i.e.
 * C = ceil(((T * k) / E) * cf) per source rank and micro-batch, evaluated in that order in doubles.
 */

/** expertCapacity: Megatron's per-expert capacity for one micro-batch of `tokens` tokens on one rank. */
export function expertCapacity(tokens: number, k: number, numExperts: number, capacityFactor: number): number {
  return Math.ceil(((tokens * k) / numExperts) * capacityFactor);
}

/**
 * dropOverCapacity: writes dispatched counts for one layer into `out[offset..offset+E)` from the step's counts
 * before dropping and returns the number of dropped assignments. The simulator only has step sums over m
 * micro-batches, so the expected excess per micro-batch is taken under a normal approximation of each
 * micro-batch's count (mean c/m, variance (c/m)(1 - pi)): E[max(0, X - C)] = s phi(z) + (mu - C)(1 - Phi(z)).
 */
export function dropOverCapacity(
  out: Int32Array,
  before: Int32Array,
  offset: number,
  numExperts: number,
  pi: ArrayLike<number>,
  capacity: number,
  microBatches: number,
): number {
  let dropped = 0;
  for (let e = 0; e < numExperts; e++) {
    const c = before[offset + e];
    const mu = c / microBatches;
    const sd = Math.sqrt(Math.max(0, mu * (1 - pi[e])));
    let excess: number;
    if (sd < 1e-9) excess = Math.max(0, mu - capacity);
    else {
      const z = (capacity - mu) / sd;
      excess = sd * normalPdf(z) + (mu - capacity) * (1 - normalCdf(z));
    }
    const d = Math.min(c, Math.max(0, Math.round(excess * microBatches)));
    out[offset + e] = c - d;
    dropped += d;
  }
  return dropped;
}

function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}
