import type { FeatureSpec } from '@churn/model-bundle';

/** Smallest scale a feature gets, so a near-constant feature cannot blow up at scoring time. */
export const MIN_SCALE = 1e-3;

/** Indicator features stay 0/1: scaling them would only make reasons and attributions harder to read. */
function isIndicator(feature: FeatureSpec): boolean {
  return feature.transform.kind === 'one_hot' || feature.transform.kind === 'is_null';
}

/** Six significant digits keep bundle.json readable; the trainer recomputes features with the rounded values. */
function round(value: number): number {
  return Number(value.toPrecision(6));
}

/** The spec with standardisation removed (center 0, scale 1): the pipeline then yields raw feature values. */
export function withoutStandardization(features: readonly FeatureSpec[]): FeatureSpec[] {
  return features.map((f) => ({ ...f, center: 0, scale: 1 }));
}

/**
 * The spec with `center`/`scale` set to the mean and standard deviation (population, floored at
 * MIN_SCALE) of each feature's raw value over `rows` rows of `raw` (row-major, center 0 / scale 1
 * values). Indicator features keep center 0, scale 1.
 */
export function fitStandardization(features: readonly FeatureSpec[], raw: Float32Array, rows: number): FeatureSpec[] {
  const width = features.length;
  return features.map((feature, f) => {
    if (isIndicator(feature) || rows === 0) return { ...feature, center: 0, scale: 1 };
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += raw[r * width + f]!;
    const mean = sum / rows;
    let squares = 0;
    for (let r = 0; r < rows; r++) {
      const d = raw[r * width + f]! - mean;
      squares += d * d;
    }
    const std = Math.sqrt(squares / rows);
    return { ...feature, center: round(mean), scale: round(Math.max(std, MIN_SCALE)) };
  });
}

/**
 * Rows (per feature) whose raw transform yields null or NaN before `fill` replaces it: a missing
 * source value, an unknown category, or a ratio with a zero denominator.
 */
export function nullProbeFeatures(features: readonly FeatureSpec[]): FeatureSpec[] {
  // fill NaN with no clip and no log1p makes the pipeline pass "no value" through as NaN.
  return features.map((f) => ({ ...f, fill: Number.NaN, clip: undefined, log1p: false, center: 0, scale: 1 }));
}

/** Per feature, how many of `rows` rows of a null-probe matrix (nullProbeFeatures) are NaN: no value before fill. */
export function countNulls(probe: Float32Array, rows: number, width: number): number[] {
  const nulls = new Array<number>(width).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < width; f++) if (Number.isNaN(probe[r * width + f]!)) nulls[f]!++;
  }
  return nulls;
}
