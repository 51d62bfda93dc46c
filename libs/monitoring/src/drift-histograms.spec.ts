import { isChurnError } from '@churn/errors';
import { createDriftAccumulator, driftHistogramsSchema, mergeDriftHistograms, type DriftHistograms } from './drift-histograms';
import { binIndex, binKernel } from './histogram-bins';
import { referenceFixture } from './testing/reference-fixture';
import { uniformStream } from './testing/uniform-stream';

function binWithSearch(edges: number[], values: Float64Array): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) counts[binIndex(edges, Math.fround(v))]!++;
  return counts;
}

describe('bin kernels', () => {
  const next = uniformStream(11);
  const cases: number[][] = [
    [-0.5, 0.5], // a constant feature: one bin
    [0, 0.5, 1], // an indicator
    [0, 1.5, 2.5, 3.5, 20], // small counts split at midpoints
    [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], // deciles
    Array.from({ length: 16 }, (_, k) => k * k), // more bins than the unrolled kernel takes
  ];

  it.each(cases)('agree with binIndex on random values, the edges themselves and out-of-range values (%#)', (...edges) => {
    const lo = edges[0]!;
    const hi = edges[edges.length - 1]!;
    const values = Float64Array.from({ length: 2000 }, () => lo - 1 + next() * (hi - lo + 2));
    values.set(edges, 0); // exactly on every edge: [edge_k, edge_k+1) must hold
    values[edges.length] = Number.NaN;
    const counts = new Float64Array(edges.length - 1);
    binKernel(edges)(values, values.length, counts);
    expect(Array.from(counts)).toEqual(binWithSearch(edges, values));
  });

  it('rounds to float32 before comparing, as the profile did', () => {
    const edge = Math.fround(0.1); // a float32 edge from the profile, a hair above 0.1
    const counts = new Float64Array(2);
    binKernel([0, edge, 1])(Float64Array.of(0.1), 1, counts);
    expect(Array.from(counts)).toEqual([0, 1]);
  });
});

describe('createDriftAccumulator', () => {
  const reference = referenceFixture();

  it('bins pipeline columns, nulls and scores in the reference bins', () => {
    const acc = createDriftAccumulator(reference, ['rate', 'flag', 'unknown_feature']);
    acc.featureValues(0, Float64Array.of(0, 0.25, 0.3, 0.99, 1, 7, -1), 7, 2);
    acc.featureValues(1, Float64Array.of(0, 1, 1, 0, 0, 0, 1), 7, 0);
    acc.featureValues(2, Float64Array.of(5), 1, 1); // not profiled: ignored
    acc.addScores(Float32Array.of(0.1, 0.2, 0.3, 0.5, 0.8, 0.9, 1));
    const json = acc.toJSON();
    expect(json).toEqual({
      formatVersion: 1,
      rows: 7,
      features: { rate: { counts: [2, 2, 0, 3], nulls: 2 }, flag: { counts: [4, 3], nulls: 0 } },
      unprofiled: ['unknown_feature'],
      score: { counts: [2, 1, 1, 3] },
    });
    expect(driftHistogramsSchema.parse(JSON.parse(JSON.stringify(json)))).toEqual(json);
  });

  it('bins a row-major matrix and per-feature null counts the same way', () => {
    const byColumn = createDriftAccumulator(reference, ['rate', 'flag']);
    byColumn.featureValues(0, Float64Array.of(0.1, 0.6, 0.6), 3, 1);
    byColumn.featureValues(1, Float64Array.of(1, 0, 1), 3, 0);
    const byMatrix = createDriftAccumulator(reference, ['rate', 'flag']);
    byMatrix.addFeatureMatrix(Float32Array.of(0.1, 1, 0.6, 0, 0.6, 1), 3);
    byMatrix.addNulls([1, 0]);
    expect(byMatrix.toJSON()).toEqual(byColumn.toJSON());
  });

  it('counts an all-null feature in the fill bin, with every row null', () => {
    const acc = createDriftAccumulator(reference, ['rate']);
    acc.featureValues(0, new Float64Array(50), 50, 50); // filled with 0
    expect(acc.toJSON().features['rate']).toEqual({ counts: [50, 0, 0, 0], nulls: 50 });
  });
});

describe('mergeDriftHistograms', () => {
  const reference = referenceFixture();
  const shard = (seed: number): DriftHistograms => {
    const next = uniformStream(seed);
    const acc = createDriftAccumulator(reference, ['rate', 'flag']);
    const n = 100 + seed;
    acc.featureValues(0, Float64Array.from({ length: n }, next), n, seed);
    acc.featureValues(1, Float64Array.from({ length: n }, () => +(next() < 0.4)), n, 0);
    acc.addScores(Float64Array.from({ length: n }, next));
    return acc.toJSON();
  };

  it('adds counts, and is associative and commutative', () => {
    const [a, b, c] = [shard(1), shard(2), shard(3)];
    const left = mergeDriftHistograms(mergeDriftHistograms(a, b), c);
    const right = mergeDriftHistograms(a, mergeDriftHistograms(b, c));
    expect(left).toEqual(right);
    expect(mergeDriftHistograms(c, mergeDriftHistograms(b, a))).toEqual(left);
    expect(left.rows).toBe(a.rows + b.rows + c.rows);
    expect(left.features['rate']!.nulls).toBe(6);
    expect(left.features['rate']!.counts.reduce((x, y) => x + y)).toBe(left.rows);
  });

  it('keeps an empty shard neutral', () => {
    const empty = createDriftAccumulator(reference, ['rate', 'flag']).toJSON();
    expect(mergeDriftHistograms(empty, shard(4))).toEqual(shard(4));
  });

  it('refuses histograms of different bins or features', () => {
    const a = shard(1);
    const otherBins = { ...a, score: { counts: [1, 2] } };
    const otherFeatures = { ...a, features: { rate: a.features['rate']! } };
    for (const b of [otherBins, otherFeatures]) {
      let error: unknown;
      try {
        mergeDriftHistograms(a, b);
      } catch (e) {
        error = e;
      }
      expect(isChurnError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
