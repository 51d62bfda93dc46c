import type { FeatureSpec } from '@churn/model-bundle';
import type { ColumnCache } from './column-cache';

/**
 * Receives each feature's values as `transform` computes them: after fill, clip and log1p, before
 * standardisation (the space of a bundle's reference profile), so drift histograms cost no second
 * pass over the columns. `values` is scratch, valid only during the call.
 */
export interface FeatureValueSink {
  /**
   * @param feature index into `featureIds`
   * @param values the first `count` entries are the rows' values
   * @param nulls rows whose raw transform had no finite value before `fill` (null, NaN, unknown category, zero denominator)
   */
  featureValues(feature: number, values: Float64Array, count: number, nulls: number): void;
}

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
   * A `sink` also gets every feature's unstandardised values (drift histograms).
   */
  transform(columns: ColumnCache, rows: Int32Array, out: Float32Array, sink?: FeatureValueSink): void;
  /**
   * The human-readable value of feature `f` for `rows`: after fill and clip, before log1p and
   * standardisation (an error rate as a fraction, a count as a count). Used in reason texts.
   */
  displayValues(columns: ColumnCache, rows: Int32Array, f: number): Float64Array;
}

/** Writes the raw transform value (before fill/clip/scale) of each selected row into `raw`. */
function rawValues(feature: FeatureSpec, columns: ColumnCache, rows: Int32Array, raw: Float64Array): void {
  const t = feature.transform;
  const n = rows.length;
  switch (t.kind) {
    case 'numeric': {
      const values = columns.numericColumn(t.column).values;
      for (let i = 0; i < n; i++) raw[i] = values[rows[i]!]!;
      return;
    }
    case 'ratio': {
      const num = columns.numericColumn(t.numerator).values;
      const den = columns.numericColumn(t.denominator).values;
      const offset = t.offset;
      for (let i = 0; i < n; i++) {
        const r = rows[i]!;
        const d = den[r]! + offset;
        raw[i] = d === 0 ? Number.NaN : (num[r]! + offset) / d;
      }
      return;
    }
    case 'one_hot': {
      const { codes, categories } = columns.categoricalColumn(t.column);
      const target = categories.indexOf(t.category);
      for (let i = 0; i < n; i++) {
        const code = codes[rows[i]!]!;
        raw[i] = code === -1 ? Number.NaN : code === target ? 1 : 0;
      }
      return;
    }
    case 'is_null': {
      const isNull = columns.isNull(t.column);
      for (let i = 0; i < n; i++) raw[i] = isNull[rows[i]!]!;
      return;
    }
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

/**
 * The numbers of a feature's value pipeline, one object shape for every feature. The per-row
 * loops below see only these: bundle features differ in which optional keys they carry, and
 * objects of several shapes made V8 throw away and recompile the loops (measured: `transform`
 * was optimised 29 times per 1M-row run, 13 of them after "wrong map" deoptimisations).
 */
interface ValueSteps {
  lo: number;
  hi: number;
  /** NaN for `fill: null`. */
  fill: number;
  clipped: boolean;
  log1p: boolean;
  center: number;
  scale: number;
}

function valueSteps(feature: FeatureSpec): ValueSteps {
  return {
    lo: feature.clip ? feature.clip[0] : -Number.MAX_VALUE,
    hi: feature.clip ? feature.clip[1] : Number.MAX_VALUE,
    fill: feature.fill ?? Number.NaN,
    clipped: feature.clip !== undefined,
    log1p: feature.log1p === true,
    center: feature.center,
    scale: feature.scale,
  };
}

/**
 * Fill (null/NaN) and clip (+/-Infinity go to the clip bounds, or to the fill without them).
 * `fill: null` keeps a missing value missing: NaN (and an unclipped infinity) stays NaN.
 */
function fillAndClip(steps: ValueSteps, raw: number): number {
  const { lo, hi, fill, clipped } = steps;
  let x = Number.isNaN(raw) ? fill : raw;
  if (Number.isNaN(x)) return x;
  if (!Number.isFinite(x)) x = clipped ? (x > 0 ? hi : lo) : fill;
  if (clipped) x = Math.min(Math.max(x, lo), hi);
  return x;
}

/** The value pipeline after the raw transform: fill, clip, log1p, standardise. */
export function finishValue(feature: FeatureSpec, raw: number): number {
  const steps = valueSteps(feature);
  let x = fillAndClip(steps, raw);
  if (steps.log1p) x = Math.log1p(Math.max(x, -0.999999));
  return (x - steps.center) / steps.scale;
}

/**
 * Fills and clips (fillAndClip) only the values outside [lo, hi] (NaN and +/-Infinity included);
 * returns how many had no finite raw value (what the reference profile's null rate counts).
 */
function fillAndClipAll(steps: ValueSteps, raw: Float64Array, n: number): number {
  const { lo, hi } = steps;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const x = raw[i]!;
    if (x >= lo && x <= hi) continue;
    if (!Number.isFinite(x)) nulls++;
    raw[i] = fillAndClip(steps, x);
  }
  return nulls;
}

function log1pAll(raw: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) raw[i] = Math.log1p(Math.max(raw[i]!, -0.999999));
}

/** Standardises `raw` into column `f` of the row-major `out`. */
function scatterStandardised(raw: Float64Array, n: number, out: Float32Array, f: number, width: number, center: number, scale: number): void {
  for (let i = 0, o = f; i < n; i++, o += width) out[o] = (raw[i]! - center) / scale;
}

export function compileFeaturePipeline(features: readonly FeatureSpec[]): FeaturePipeline {
  const featureCount = features.length;
  const steps = features.map(valueSteps);
  return {
    featureIds: features.map((f) => f.id),
    sourceColumns: [...new Set(features.flatMap(transformColumns))],
    transform(columns, rows, out, sink) {
      const n = rows.length;
      const raw = new Float64Array(n);
      for (let f = 0; f < featureCount; f++) {
        const step = steps[f]!;
        rawValues(features[f]!, columns, rows, raw);
        const nulls = fillAndClipAll(step, raw, n);
        if (step.log1p) log1pAll(raw, n);
        if (sink && Number.isNaN(step.fill) && nulls > 0) {
          // Missing values stay NaN for the model; the drift bins see only the present ones
          // (the nulls are counted apart), as the reference profile does.
          const present = raw.subarray(0, n).filter((v) => !Number.isNaN(v));
          sink.featureValues(f, present, present.length, nulls);
        } else sink?.featureValues(f, raw, n, nulls);
        scatterStandardised(raw, n, out, f, featureCount, step.center, step.scale);
      }
    },
    displayValues(columns, rows, f) {
      const feature = features[f]!;
      const values = new Float64Array(rows.length);
      rawValues(feature, columns, rows, values);
      const step = steps[f]!;
      for (let i = 0; i < values.length; i++) values[i] = fillAndClip(step, values[i]!);
      return values;
    },
  };
}
