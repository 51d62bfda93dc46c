import { Dictionary, Float64, Int32, Table, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { featureSchema, type BundleManifestInput, type FeatureSpec } from '@churn/model-bundle';
import { ColumnCache } from './column-cache';
import { compileFeaturePipeline, finishValue, transformColumns } from './feature-pipeline';

type FeatureInput = BundleManifestInput['features'][number];

const feature = (input: FeatureInput): FeatureSpec => featureSchema.parse(input);

/** Six customers; row 2 has nulls almost everywhere. */
function customers(): ColumnCache {
  return new ColumnCache(
    new Table({
      tenure_days: vectorFromArray([10, 200, null, 0, 35, 1000], new Int32()),
      api_errors: vectorFromArray([1, 0, 4, 9, null, 3], new Int32()),
      api_calls: vectorFromArray([9, 0, -1, 0, 10, 3], new Int32()),
      mrr: vectorFromArray([49.5, 0, Number.NaN, -5, Infinity, 1e6], new Float64()),
      plan: vectorFromArray(['pro', 'free', null, 'enterprise', 'pro', 'free'], new Dictionary(new Utf8(), new Int32())),
      region: vectorFromArray(['eu', 'us', 'eu', 'us', 'eu', 'us'], new Utf8()),
    } as Record<string, Vector>),
  );
}

const allRows = Int32Array.from([0, 1, 2, 3, 4, 5]);

/** Runs a one-feature pipeline over every row. */
function single(input: FeatureInput, rows: Int32Array = allRows): number[] {
  const pipeline = compileFeaturePipeline([feature(input)]);
  const out = new Float32Array(rows.length);
  pipeline.transform(customers(), rows, out);
  return Array.from(out);
}

const f32 = (values: number[]) => values.map((v) => Math.fround(v));

describe('compileFeaturePipeline: transforms', () => {
  it('numeric: copies the value, fills nulls and NaN', () => {
    expect(single({ id: 'tenure', transform: { kind: 'numeric', column: 'tenure_days' }, fill: -1 })).toEqual([10, 200, -1, 0, 35, 1000]);
  });

  it('ratio: adds the offset to both sides, fills a zero denominator', () => {
    // (errors + 1) / (calls + 1); row 2 has calls -1 -> denominator 0; row 4 has a null numerator.
    expect(single({ id: 'err_rate', transform: { kind: 'ratio', numerator: 'api_errors', denominator: 'api_calls', offset: 1 }, fill: 7 })).toEqual(
      f32([2 / 10, 1 / 1, 7, 10 / 1, 7, 4 / 4]),
    );
  });

  it('ratio: without offset a zero denominator gets the fill value, not Infinity or NaN', () => {
    expect(single({ id: 'err_rate', transform: { kind: 'ratio', numerator: 'api_errors', denominator: 'api_calls' }, fill: 0.5 })).toEqual(
      f32([1 / 9, 0.5, -4, 0.5, 0.5, 1]),
    );
  });

  it('one_hot: 1 for the category, 0 for others, fill for a null category', () => {
    expect(single({ id: 'plan_pro', transform: { kind: 'one_hot', column: 'plan', category: 'pro' }, fill: 0.25 })).toEqual([1, 0, 0.25, 0, 1, 0]);
    expect(single({ id: 'plan_free', transform: { kind: 'one_hot', column: 'plan', category: 'free' } })).toEqual([0, 1, 0, 0, 0, 1]);
  });

  it('one_hot: a category absent from the data is 0 on every non-null row', () => {
    expect(single({ id: 'plan_gold', transform: { kind: 'one_hot', column: 'plan', category: 'gold' }, fill: 9 })).toEqual([0, 0, 9, 0, 0, 0]);
    expect(single({ id: 'region_eu', transform: { kind: 'one_hot', column: 'region', category: 'eu' } })).toEqual([1, 0, 1, 0, 1, 0]);
  });

  it('is_null: 1 where the value is null (NaN is not null), 0 for a column without nulls', () => {
    expect(single({ id: 'tenure_missing', transform: { kind: 'is_null', column: 'tenure_days' } })).toEqual([0, 0, 1, 0, 0, 0]);
    expect(single({ id: 'mrr_missing', transform: { kind: 'is_null', column: 'mrr' } })).toEqual([0, 0, 0, 0, 0, 0]);
    expect(single({ id: 'plan_missing', transform: { kind: 'is_null', column: 'plan' } })).toEqual([0, 0, 1, 0, 0, 0]);
  });
});

describe('compileFeaturePipeline: value pipeline', () => {
  it('clips to [min, max]; an infinite value goes to the bound on its side', () => {
    expect(single({ id: 'mrr', transform: { kind: 'numeric', column: 'mrr' }, clip: [0, 100], fill: 3 })).toEqual(f32([49.5, 0, 3, 0, 100, 100]));
  });

  it('replaces an infinite value by the fill value when there is no clip', () => {
    expect(single({ id: 'mrr', transform: { kind: 'numeric', column: 'mrr' }, fill: -2 })).toEqual(f32([49.5, 0, -2, -5, -2, 1e6]));
  });

  it('applies log1p after clipping, guarding values at or below -1', () => {
    expect(single({ id: 'tenure', transform: { kind: 'numeric', column: 'tenure_days' }, clip: [0, 365], log1p: true })).toEqual(
      f32([Math.log1p(10), Math.log1p(200), Math.log1p(0), 0, Math.log1p(35), Math.log1p(365)]),
    );
    const guarded = single({ id: 'mrr', transform: { kind: 'numeric', column: 'mrr' }, log1p: true, fill: 0 });
    expect(guarded[3]).toBeCloseTo(Math.log1p(-0.999999), 4);
    expect(Number.isFinite(guarded[3])).toBe(true);
  });

  it('standardises last: (x - center) / scale, after fill, clip and log1p', () => {
    expect(single({ id: 'tenure', transform: { kind: 'numeric', column: 'tenure_days' }, center: 100, scale: 50, fill: 0 })).toEqual(
      f32([-1.8, 2, -2, -2, -1.3, 18]),
    );
    const spec = feature({ id: 'mrr', transform: { kind: 'numeric', column: 'mrr' }, clip: [0, 99], log1p: true, center: 1, scale: 2, fill: 0 });
    expect(finishValue(spec, 49.5)).toBeCloseTo((Math.log1p(49.5) - 1) / 2, 12);
    expect(finishValue(spec, Number.NaN)).toBeCloseTo((Math.log1p(0) - 1) / 2, 12);
    expect(finishValue(spec, 1e9)).toBeCloseTo((Math.log1p(99) - 1) / 2, 12);
    expect(finishValue(spec, Number.NEGATIVE_INFINITY)).toBeCloseTo((Math.log1p(0) - 1) / 2, 12);
  });

  it('fills with the fill value before clipping and scaling it', () => {
    const spec = feature({ id: 'x', transform: { kind: 'numeric', column: 'mrr' }, fill: 500, clip: [0, 100], center: 50, scale: 10 });
    expect(finishValue(spec, Number.NaN)).toBe(5);
  });
});

describe('compileFeaturePipeline: layout', () => {
  const features = [
    feature({ id: 'tenure', transform: { kind: 'numeric', column: 'tenure_days' } }),
    feature({ id: 'plan_pro', transform: { kind: 'one_hot', column: 'plan', category: 'pro' } }),
    feature({ id: 'err_rate', transform: { kind: 'ratio', numerator: 'api_errors', denominator: 'api_calls', offset: 1 } }),
    feature({ id: 'tenure_missing', transform: { kind: 'is_null', column: 'tenure_days' } }),
  ];

  it('writes the selected rows row-major, in the order of the row indices', () => {
    const pipeline = compileFeaturePipeline(features);
    const rows = Int32Array.from([5, 0, 2]);
    const out = new Float32Array(rows.length * features.length + 2).fill(-99);
    pipeline.transform(customers(), rows, out);
    expect(Array.from(out)).toEqual([
      ...[1000, 0, 1, 0], // row 5
      ...f32([10, 1, 0.2, 0]), // row 0
      ...[0, 0, 0, 1], // row 2: null tenure and plan -> fill 0, denominator 0 -> fill 0
      -99,
      -99, // past rows.length * featureCount: untouched
    ]);
  });

  it('gives the same values as transforming every row and picking the selected ones', () => {
    const pipeline = compileFeaturePipeline(features);
    const everything = new Float32Array(allRows.length * features.length);
    pipeline.transform(customers(), allRows, everything);
    const rows = Int32Array.from([4, 1, 3]);
    const subset = new Float32Array(rows.length * features.length);
    pipeline.transform(customers(), rows, subset);
    rows.forEach((r, i) => {
      expect(Array.from(subset.subarray(i * 4, i * 4 + 4))).toEqual(Array.from(everything.subarray(r * 4, r * 4 + 4)));
    });
  });

  it('writes nothing for an empty selection', () => {
    const out = new Float32Array(3).fill(7);
    compileFeaturePipeline(features).transform(customers(), new Int32Array(0), out);
    expect(Array.from(out)).toEqual([7, 7, 7]);
  });

  it('reads columns across chunks', () => {
    const table = new Table({
      x: vectorFromArray([1, 2], new Int32()).concat(vectorFromArray([null, 4], new Int32())),
      c: vectorFromArray(['a', 'b'], new Utf8()).concat(vectorFromArray(['a', null], new Utf8())),
    } as Record<string, Vector>);
    const pipeline = compileFeaturePipeline([
      feature({ id: 'x', transform: { kind: 'numeric', column: 'x' }, fill: -1 }),
      feature({ id: 'x_null', transform: { kind: 'is_null', column: 'x' } }),
      feature({ id: 'c_a', transform: { kind: 'one_hot', column: 'c', category: 'a' }, fill: 5 }),
    ]);
    const out = new Float32Array(4 * 3);
    pipeline.transform(new ColumnCache(table), Int32Array.from([0, 1, 2, 3]), out);
    expect(Array.from(out)).toEqual([1, 0, 1, 2, 0, 0, -1, 1, 1, 4, 0, 5]);
  });

  it('lists feature ids in order and each source column once', () => {
    const pipeline = compileFeaturePipeline(features);
    expect(pipeline.featureIds).toEqual(['tenure', 'plan_pro', 'err_rate', 'tenure_missing']);
    expect(pipeline.sourceColumns).toEqual(['tenure_days', 'plan', 'api_errors', 'api_calls']);
    expect(transformColumns(features[2]!)).toEqual(['api_errors', 'api_calls']);
    expect(transformColumns(features[1]!)).toEqual(['plan']);
  });

  it('fails with CONTRACT_VIOLATION when a source column is missing', () => {
    const pipeline = compileFeaturePipeline([feature({ id: 'seats', transform: { kind: 'numeric', column: 'seats' } })]);
    expect(() => pipeline.transform(customers(), allRows, new Float32Array(6))).toThrow(expect.objectContaining({ code: 'CONTRACT_VIOLATION' }));
  });
});
