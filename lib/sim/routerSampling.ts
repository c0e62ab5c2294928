/**
 * The router's per-step statistics for one rank and one MoE layer, without simulating every token.
 *
 * Model (an approximation, documented in createSimulation.ts): a layer's router has per-expert mean
 * logits b. The fraction of tokens that select expert e among their top-k, pi[e], is taken as the
 * capped "probability proportional to size" inclusion probability of softmax(b): pi = min(1, lambda * p),
 * with lambda chosen so that sum(pi) = k (each token picks k distinct experts, so pi[e] <= 1).
 */

/** softmaxInto: writes softmax(scale * logits) into `out` and returns log-sum-exp(scale * logits). */
export function softmaxInto(out: Float64Array, logits: ArrayLike<number>, scale = 1): number {
  const n = out.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, scale * logits[i]);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.exp(scale * logits[i] - max);
    out[i] = v;
    sum += v;
  }
  for (let i = 0; i < n; i++) out[i] /= sum;
  return max + Math.log(sum);
}

/** topkInclusion: writes pi[e] = min(1, lambda * p[e]) with sum(pi) = k into `out` (p sums to 1, k <= length). */
export function topkInclusion(out: Float64Array, p: Float64Array, k: number): void {
  const n = p.length;
  const capped = new Uint8Array(n);
  let nCapped = 0;
  for (;;) {
    let rest = 0;
    for (let i = 0; i < n; i++) if (!capped[i]) rest += p[i];
    const lambda = rest > 0 ? (k - nCapped) / rest : 0;
    let changed = false;
    for (let i = 0; i < n; i++) {
      if (!capped[i] && lambda * p[i] >= 1) {
        capped[i] = 1;
        nCapped++;
        changed = true;
      }
    }
    if (!changed || nCapped >= k) {
      for (let i = 0; i < n; i++) out[i] = capped[i] ? 1 : Math.min(1, lambda * p[i]);
      if (nCapped >= k) for (let i = 0; i < n; i++) if (!capped[i]) out[i] = 0;
      return;
    }
  }
}

/** EXACT_TOKEN_LIMIT: at or below this many tokens, counts are drawn token by token; above it, by a corrected normal approximation. */
export const EXACT_TOKEN_LIMIT = 256;

/**
 * sampleExpertCounts: draws tokens-per-expert for `tokens` tokens each choosing `k` distinct experts with
 * inclusion probabilities `pi` (sum k). Guarantees sum(counts) = tokens * k and 0 <= counts[e] <= tokens.
 * Small T: per token, Madow's systematic sampling over a shuffled expert order (exact inclusion probabilities).
 * Large T: counts[e] ~ Normal(T pi, T pi (1 - pi)) (the binomial marginal), clamped to [0, T], the sum restored
 * by spreading the difference in proportion to each expert's variance, then integerised by rounding the running sum.
 */
export function sampleExpertCounts(
  out: Int32Array,
  pi: Float64Array,
  tokens: number,
  k: number,
  rng: { uniform(): number; normal(): number },
): void {
  const n = pi.length;
  out.fill(0);
  if (tokens <= 0) return;
  if (tokens <= EXACT_TOKEN_LIMIT) {
    const order = new Int32Array(n);
    const chosen = new Uint8Array(n);
    for (let t = 0; t < tokens; t++) {
      chosen.fill(0);
      for (let i = 0; i < n; i++) order[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rng.uniform() * (i + 1));
        const tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
      }
      let point = rng.uniform();
      let cum = 0;
      let picked = 0;
      for (let i = 0; i < n && picked < k; i++) {
        const e = order[i];
        const next = cum + pi[e];
        // Expert e is chosen when a point u, u+1, ... falls in [cum, next); pi[e] <= 1 so at most once.
        if (point < next - 1e-12) {
          out[e]++;
          chosen[e] = 1;
          picked++;
          point += 1;
        }
        cum = next;
      }
      // Floating error can leave the last point just past the end; give it to the most likely unpicked expert.
      while (picked < k) {
        let best = -1;
        for (let e = 0; e < n; e++) if (!chosen[e] && (best < 0 || pi[e] > pi[best])) best = e;
        out[best]++;
        chosen[best] = 1;
        picked++;
      }
    }
    return;
  }

  const target = tokens * k;
  const x = scratch(n);
  const v = scratch2(n);
  let sum = 0;
  let vsum = 0;
  for (let e = 0; e < n; e++) {
    const mu = tokens * pi[e];
    const variance = tokens * pi[e] * (1 - pi[e]);
    v[e] = variance;
    vsum += variance;
    x[e] = Math.min(tokens, Math.max(0, mu + Math.sqrt(variance) * rng.normal()));
    sum += x[e];
  }
  // Two passes of variance-weighted correction, clamping in between.
  for (let pass = 0; pass < 2 && vsum > 0; pass++) {
    const diff = target - sum;
    sum = 0;
    for (let e = 0; e < n; e++) {
      x[e] = Math.min(tokens, Math.max(0, x[e] + (diff * v[e]) / vsum));
      sum += x[e];
    }
  }
  // Integerise by rounding the running sum: each count moves by less than one token, stays in [0, T],
  // and the total is round(sum), which the correction above made equal to the target.
  let prev = 0;
  let cum = 0;
  let isum = 0;
  for (let e = 0; e < n; e++) {
    cum += x[e];
    const r = e === n - 1 ? Math.round(sum) : Math.round(cum);
    out[e] = Math.min(tokens, Math.max(0, r - prev));
    isum += out[e];
    prev = r;
  }
  // Rarely (clamping left the sum off target) hand out or take back single tokens.
  for (let e = 0; isum < target; e = (e + 1) % n) {
    if (out[e] < tokens) {
      out[e]++;
      isum++;
    }
  }
  for (let e = 0; isum > target; e = (e + 1) % n) {
    if (out[e] > 0) {
      out[e]--;
      isum--;
    }
  }
}

let scratchA = new Float64Array(0);
let scratchB = new Float64Array(0);
function scratch(n: number): Float64Array {
  if (scratchA.length < n) scratchA = new Float64Array(n);
  return scratchA;
}
function scratch2(n: number): Float64Array {
  if (scratchB.length < n) scratchB = new Float64Array(n);
  return scratchB;
}
