/**
 * Seeded randomness for the simulator. Every random draw is keyed by (seed, step, rank, layer, purpose)
 * through hashSeed, so any step can be generated on its own, in any order, with the same result.
 * No Math.random, no clock.
 */

/** hashSeed: mixes integers into one 32-bit seed (murmur3 fmix32 over each word, FNV-style chaining). */
export function hashSeed(a: number, b = 0, c = 0, d = 0, e = 0): number {
  let h = 0x811c9dc5 ^ fmix32(a | 0);
  h = fmix32(Math.imul(h ^ fmix32(b | 0), 0x01000193));
  h = fmix32(Math.imul(h ^ fmix32(c | 0), 0x01000193));
  h = fmix32(Math.imul(h ^ fmix32(d | 0), 0x01000193));
  h = fmix32(Math.imul(h ^ fmix32(e | 0), 0x01000193));
  return h >>> 0;
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Rng: a mulberry32 generator with uniform and standard-normal draws. */
export class Rng {
  private state: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** uniform: a float in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** normal: a standard normal draw (Box-Muller, the second value cached). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = this.uniform();
    while (u <= 1e-300) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    this.hasSpare = true;
    return r * Math.cos(2 * Math.PI * v);
  }

  /** jitter: cheap zero-mean, unit-variance noise (triangular, two uniforms) for small perturbations. */
  jitter(): number {
    return (this.uniform() + this.uniform() - 1) * 2.449489742783178;
  }

  /** int: an integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

/** smoothNoise: deterministic value noise in about [-1.7, 1.7] (unit-variance knots every `period` steps, smoothstep-interpolated). */
export function smoothNoise(seed: number, key1: number, key2: number, t: number, period: number): number {
  const x = t / period;
  const i = Math.floor(x);
  const f = x - i;
  const a = new Rng(hashSeed(seed, key1, key2, i, 0x5eed)).normal();
  const b = new Rng(hashSeed(seed, key1, key2, i + 1, 0x5eed)).normal();
  const s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}
