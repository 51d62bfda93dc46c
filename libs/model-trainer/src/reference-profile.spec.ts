import { referenceProfileSchema } from '@churn/model-bundle';
import { binIndex } from '@churn/monitoring';
import { buildReferenceProfile, featureProfile, quantile, scoreProfile } from './reference-profile';
import { SeededRandom } from './seeded-random';

function strictlyIncreasing(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v > values[i - 1]!);
}

describe('quantile and binIndex', () => {
  it('interpolates linearly between order statistics', () => {
    const sorted = Float64Array.from([1, 2, 3, 4]);
    expect(quantile(sorted, 0)).toBe(1);
    expect(quantile(sorted, 0.5)).toBe(2.5);
    expect(quantile(sorted, 1)).toBe(4);
  });

  it('puts values in left-closed bins, the last one closed, clamping outsiders', () => {
    const edges = [0, 1, 2, 5];
    expect([-3, 0, 0.5, 1, 1.9, 2, 5, 9].map((v) => binIndex(edges, v))).toEqual([0, 0, 0, 1, 1, 2, 2, 2]);
  });
});

describe('featureProfile', () => {
  it('gives an indicator one bin per value', () => {
    const profile = featureProfile(Float64Array.from([0, 1, 0, 0, 1, 0, 0, 0]), 0);
    expect(profile.edges).toEqual([0, 0.5, 1]);
    expect(profile.counts).toEqual([6, 2]);
    expect(profile).toMatchObject({ mean: 0.25, median: 0, min: 0, max: 1, nullRate: 0 });
  });

  it('gives a constant feature two edges around its value', () => {
    const profile = featureProfile(new Float64Array(5).fill(3), 5);
    expect(profile.edges).toEqual([2.5, 3.5]);
    expect(profile.counts).toEqual([5]);
    expect(profile.nullRate).toBe(1);
  });

  it('uses 11 decile edges for a continuous feature, each bin holding about a tenth', () => {
    const random = new SeededRandom(5);
    const values = Float64Array.from({ length: 10_000 }, () => random.normal());
    const profile = featureProfile(values, 250);
    expect(profile.edges).toHaveLength(11);
    expect(strictlyIncreasing(profile.edges)).toBe(true);
    expect(profile.counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    for (const c of profile.counts) expect(Math.abs(c - 1000)).toBeLessThanOrEqual(1);
    expect(profile.nullRate).toBe(0.025);
    expect(profile.min).toBe(profile.edges[0]);
    expect(profile.max).toBe(profile.edges[10]);
  });

  it('deduplicates decile edges of a heavily tied count', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => (i < 800 ? 0 : i % 37));
    const profile = featureProfile(values, 0);
    expect(strictlyIncreasing(profile.edges)).toBe(true);
    expect(profile.edges.length).toBeGreaterThanOrEqual(2);
    expect(profile.counts).toHaveLength(profile.edges.length - 1);
    expect(profile.counts.reduce((a, b) => a + b, 0)).toBe(1000);
  });
});

describe('scoreProfile', () => {
  it('has 20 equal bins over [0, 1], 101 quantiles and the mean', () => {
    const scores = Float32Array.from({ length: 1001 }, (_, i) => i / 1000);
    const profile = scoreProfile(scores);
    expect(profile.edges).toHaveLength(21);
    expect(profile.edges[0]).toBe(0);
    expect(profile.edges[20]).toBe(1);
    expect(profile.counts.reduce((a, b) => a + b, 0)).toBe(1001);
    expect(profile.quantiles).toHaveLength(101);
    expect(profile.quantiles[0]).toBeCloseTo(0, 6);
    expect(profile.quantiles[50]).toBeCloseTo(0.5, 6);
    expect(profile.quantiles[100]).toBeCloseTo(1, 6);
    expect(profile.mean).toBeCloseTo(0.5, 6);
  });
});

describe('buildReferenceProfile', () => {
  it('profiles every feature column and validates against the bundle schema', () => {
    const random = new SeededRandom(8);
    const rows = 500;
    const raw = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      raw[r * 2] = random.normal() * 3;
      raw[r * 2 + 1] = random.next() < 0.2 ? 1 : 0;
    }
    const scores = Float32Array.from({ length: rows }, () => random.next());
    const profile = buildReferenceProfile({ featureIds: ['usage', 'flag'], raw, nullCounts: [50, 0], scores, rows });
    expect(referenceProfileSchema.safeParse(profile).success).toBe(true);
    expect(profile.rows).toBe(rows);
    expect(profile.features['usage']!.nullRate).toBe(0.1);
    expect(profile.features['flag']!.edges).toEqual([0, 0.5, 1]);
  });
});
