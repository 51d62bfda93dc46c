/**
 * A small seeded PRNG (xoshiro128**) plus the distributions the generator needs. Written here,
 * not pulled from a package, so the byte stream is pinned by this repository: a dependency
 * upgrade can never silently change a "deterministic" dataset.
 */

const TWO_POW_NEG_32 = 2 ** -32;

/** splitmix32 step: spreads nearby seeds (0, 1, 2, ...) into unrelated 32-bit states. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Derives a 32-bit seed from a user seed and a list of small integers (file index, stream id),
 * so each file and each purpose gets an independent stream no matter the generation order.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  // Fold both halves of a safe-integer seed so seeds above 2^32 are not truncated into collisions.
  const high = Math.floor(seed / 2 ** 32) | 0;
  let h = splitmix32(splitmix32(seed | 0) ^ high);
  for (const part of parts) h = splitmix32(h ^ (part | 0));
  return h;
}

/** xoshiro128**: 128-bit state, fast 32-bit output, good statistical quality. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = Number.NaN;

  constructor(seed: number) {
    let s = seed >>> 0;
    this.a = s = splitmix32(s);
    this.b = s = splitmix32(s);
    this.c = s = splitmix32(s);
    this.d = splitmix32(s);
    // An all-zero state would emit zeros forever; splitmix makes it practically impossible, but be sure.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextUint32() * TWO_POW_NEG_32;
  }

  /** Uniform in (0, 1): safe to take the logarithm of. */
  openFloat(): number {
    return (this.nextUint32() + 0.5) * TWO_POW_NEG_32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /**
   * Standard normal by Marsaglia's polar method: no trigonometry, and the second value of each
   * pair is kept for the next call. The generator spends most of its time here.
   */
  gaussian(): number {
    if (!Number.isNaN(this.spare)) {
      const value = this.spare;
      this.spare = Number.NaN;
      return value;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.float() - 1;
      v = 2 * this.float() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const scale = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * scale;
    return u * scale;
  }

  /** Log-normal with the given median and log-space standard deviation. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.gaussian());
  }

  /**
   * Poisson count. Exact inversion (one uniform, walking the CDF) for means up to 30; a rounded
   * normal above, where the approximation error is far below anything this data is used for.
   */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.gaussian()));
    const u = this.float();
    let k = 0;
    let probability = Math.exp(-mean);
    let cumulative = probability;
    // The bound only guards against rounding leaving the CDF a hair below u.
    while (u >= cumulative && k < 200) {
      k++;
      probability *= mean / k;
      cumulative += probability;
    }
    return k;
  }

  /** Binomial count by direct trials: only used for small n (features, tickets). */
  binomial(n: number, p: number): number {
    let k = 0;
    for (let i = 0; i < n; i++) if (this.float() < p) k++;
    return k;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
