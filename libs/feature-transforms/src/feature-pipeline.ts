import type { FeatureSpec } from '@churn/model-bundle';
import type { ColumnCache } from './column-cache';

/**
 * A feature spec compiled to column kernels. `transform` writes the model's row-major float32
 * input directly: one pass per feature over typed arrays, no per-row objects.
 */
export interface FeaturePipeline {
  readonly featureIds: readonly string[];
  /** Source columns the features read (the columns a shard must decode, besides the contract). */
  readonly sourceColumns: readonly string[];
  /**
   * Writes features of `rows` (table row indices) into `out` at row-major positions
   * `(i * featureCount + f)`. `out` must hold at least `rows.length * featureCount` values.
   */
  transform(columns: ColumnCache, rows: Int32Array, out: Float32Array): void;
}

type RawKernel = (columns: ColumnCache) => (row: number) => number;

function rawKernel(feature: FeatureSpec): RawKernel {
  const t = feature.transform;
  switch (t.kind) {
    case 'numeric':
      return (columns) => {
        const { values } = columns.numericColumn(t.column);
        return (row) => values[row]!;
      };
    case 'ratio':
      return (columns) => {
        const num = columns.numericColumn(t.numerator).values;
        const den = columns.numericColumn(t.denominator).values;
        const offset = t.offset;
        return (row) => {
          const d = den[row]! + offset;
          return d === 0 ? Number.NaN : (num[row]! + offset) / d;
        };
      };
    case 'one_hot':
      return (columns) => {
        const { codes, categories } = columns.categoricalColumn(t.column);
        const target = categories.indexOf(t.category);
        return (row) => (codes[row] === -1 ? Number.NaN : codes[row] === target ? 1 : 0);
      };
    case 'is_null':
      return (columns) => {
        const vector = columns.vector(t.column);
        if (vector.nullCount === 0) return () => 0;
        return (row) => (vector.isValid(row) ? 0 : 1);
      };
  }
}

/** Source columns a transform reads. */
export function transformColumns(feature: FeatureSpec): string[] {
  const t = feature.transform;
  switch (t.kind) {
    case 'ratio':
      return [t.numerator, t.denominator];
    default:
      return [t.column];
  }
}

/** The value pipeline after the raw transform: fill, clip, log1p, standardise. */
export function finishValue(feature: FeatureSpec, raw: number): number {
  let x = Number.isFinite(raw) ? raw : Number.isNaN(raw) ? feature.fill : raw;
  if (!Number.isFinite(x)) x = feature.clip ? (x > 0 ? feature.clip[1] : feature.clip[0]) : feature.fill;
  if (feature.clip) x = Math.min(Math.max(x, feature.clip[0]), feature.clip[1]);
  if (feature.log1p) x = Math.log1p(Math.max(x, -0.999999));
  return (x - feature.center) / feature.scale;
}

export function compileFeaturePipeline(features: readonly FeatureSpec[]): FeaturePipeline {
  const kernels = features.map(rawKernel);
  const featureCount = features.length;
  return {
    featureIds: features.map((f) => f.id),
    sourceColumns: [...new Set(features.flatMap(transformColumns))],
    transform(columns, rows, out) {
      for (let f = 0; f < featureCount; f++) {
        const feature = features[f]!;
        const raw = kernels[f]!(columns);
        const n = rows.length;
        for (let i = 0; i < n; i++) out[i * featureCount + f] = finishValue(feature, raw(rows[i]!));
      }
    },
  };
}
