import { Prng, deriveSeed } from './prng';

function draws(prng: Prng, n: number, draw: (p: Prng) => number): number[] {
  return Array.from({ length: n }, () => draw(prng));
}

function meanAndVariance(values: number[]): { mean: number; variance: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, variance };
}

/** First outputs of the stream that file 0's rows use with the default seed. */
const PINNED = [334797582, 837043723, 4011888100];

describe('Prng', () => {
  it('repeats its stream for the same seed and differs for another', () => {
    const a = draws(new Prng(123), 100, (p) => p.nextUint32());
    const b = draws(new Prng(123), 100, (p) => p.nextUint32());
    const c = draws(new Prng(124), 100, (p) => p.nextUint32());
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('implements xoshiro128** (reference outputs for state 1, 2, 3, 4)', () => {
    const prng = Object.assign(new Prng(0), { a: 1, b: 2, c: 3, d: 4 });
    expect(draws(prng, 4, (p) => p.nextUint32())).toEqual([11520, 0, 5927040, 70819200]);
  });

  it('pins the seeded stream, so a refactor cannot silently change every dataset', () => {
    expect(draws(new Prng(deriveSeed(42, 0, 1)), 3, (p) => p.nextUint32())).toEqual(PINNED);
  });

  it('derives unrelated seeds for each file and stream', () => {
    const seeds = new Set<number>();
    for (let file = 0; file < 50; file++) for (let stream = 0; stream < 4; stream++) seeds.add(deriveSeed(42, file, stream));
    expect(seeds.size).toBe(200);
    expect(deriveSeed(2 ** 40, 0)).not.toBe(deriveSeed(0, 0));
  });

  it('draws uniforms in [0, 1) and (0, 1)', () => {
    const prng = new Prng(1);
    for (let i = 0; i < 10_000; i++) {
      const u = prng.float();
      const o = prng.openFloat();
      expect(u >= 0 && u < 1).toBe(true);
      expect(o > 0 && o < 1).toBe(true);
    }
  });

  it('draws standard normals', () => {
    const { mean, variance } = meanAndVariance(draws(new Prng(2), 50_000, (p) => p.gaussian()));
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  it.each([0.3, 4, 25, 200])('draws Poisson counts with mean and variance %p', (lambda) => {
    const values = draws(new Prng(3), 40_000, (p) => p.poisson(lambda));
    const { mean, variance } = meanAndVariance(values);
    expect(values.every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    expect(Math.abs(mean - lambda) / lambda).toBeLessThan(0.03);
    expect(Math.abs(variance - lambda) / lambda).toBeLessThan(0.06);
  });

  it('draws binomial counts within [0, n]', () => {
    const values = draws(new Prng(4), 20_000, (p) => p.binomial(8, 0.25));
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(8);
    expect(Math.abs(meanAndVariance(values).mean - 2)).toBeLessThan(0.05);
  });

  it('returns 0 for a Poisson mean that is not positive', () => {
    expect(new Prng(5).poisson(0)).toBe(0);
    expect(new Prng(5).poisson(Number.NaN)).toBe(0);
  });
});
