/**
 * Seeded randomness for training. Everything random in a training run (weight init, mini-batch
 * order, the early-stopping slice, row sampling, the held-out split) draws from these, so the same
 * seed and data give byte-identical models.
 */

/** Mixes a 32-bit state into a well-distributed 32-bit value (the splitmix32 / murmur3 finaliser). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A small, fast PRNG (splitmix32). Not cryptographic; reproducible across platforms. */
export class SeededRandom {
  private state: number;
  private spareNormal: number | undefined;

  constructor(seed: number, stream = 0) {
    // Distinct streams per purpose keep e.g. the init independent of how many shuffles ran before.
    this.state = mix32((seed | 0) ^ mix32(stream + 0x9e3779b9)) | 0;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    return mix32(this.state);
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const value = this.spareNormal;
      this.spareNormal = undefined;
      return value;
    }
    const u = 1 - this.next(); // (0, 1]: log(u) stays finite
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T extends Int32Array | Uint32Array>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = values[i]!;
      values[i] = values[j]!;
      values[j] = tmp;
    }
    return values;
  }
}

/**
 * A seeded 32-bit hash of a string (FNV-1a, then a finaliser). Used for the held-out split, so a
 * customer's side of the split depends only on its id and the seed, not on file order or sampling.
 */
export function hashString(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ mix32(seed | 0)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}
