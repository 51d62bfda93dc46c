import type { FeatureProfile, ReferenceProfile } from '@churn/model-bundle';
// One bin rule for the profile and for drift at scoring time (@churn/monitoring).
import { binIndex } from '@churn/monitoring';

/** Quantile bins per feature histogram. */
export const FEATURE_BINS = 10;
/** Equal-width bins of the score histogram over [0, 1]. */
export const SCORE_BINS = 20;

/** Linear-interpolation quantile (type 7, as numpy's default) of ascending `sorted`. */
export function quantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = (n - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

function distinctValues(sorted: Float64Array, limit: number): number[] | undefined {
  const values: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      if (values.length === limit) return undefined;
      values.push(sorted[i]!);
    }
  }
  return values;
}

/**
 * Bin edges for a feature: with at most FEATURE_BINS distinct values (indicators, small counts)
 * one bin per value, split at midpoints, because quantile edges would lump 0 and 1 of a one-hot
 * feature into one bin; otherwise the deduplicated deciles. Always strictly increasing, at least 2.
 */
function featureEdges(sorted: Float64Array): number[] {
  const distinct = distinctValues(sorted, FEATURE_BINS);
  if (distinct) {
    const first = distinct[0]!;
    const last = distinct[distinct.length - 1]!;
    if (distinct.length === 1) return [first - 0.5, first + 0.5];
    const mids = distinct.slice(1).map((v, i) => (distinct[i]! + v) / 2);
    return [first, ...mids, last];
  }
  const edges: number[] = [];
  for (let k = 0; k <= FEATURE_BINS; k++) {
    const edge = quantile(sorted, k / FEATURE_BINS);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return edges;
}

function histogram(edges: number[], values: Float64Array): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) counts[binIndex(edges, v)]!++;
  return counts;
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length === 0 ? 0 : sum / values.length;
}

/** Profile of one feature's raw values (after fill/clip/log1p, before standardisation). */
export function featureProfile(values: Float64Array, nullRows: number): FeatureProfile {
  // A feature with `fill: null` keeps missing values as NaN: they count as nulls, not values.
  const present = values.filter((v) => !Number.isNaN(v));
  const sorted = present.length > 0 ? present.sort() : Float64Array.of(0);
  const edges = featureEdges(sorted);
  return {
    edges,
    counts: histogram(edges, sorted),
    nullRate: values.length === 0 ? 0 : nullRows / values.length,
    mean: mean(sorted),
    median: quantile(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

/** Score histogram over [0, 1] in SCORE_BINS equal bins, 101 quantiles (0%..100%) and the mean. */
export function scoreProfile(scores: ArrayLike<number>): ReferenceProfile['score'] {
  const sorted = Float64Array.from(scores).sort();
  const edges = Array.from({ length: SCORE_BINS + 1 }, (_, k) => k / SCORE_BINS);
  return {
    edges,
    counts: histogram(edges, sorted),
    quantiles: Array.from({ length: 101 }, (_, k) => quantile(sorted, k / 100)),
    mean: mean(sorted),
  };
}

export interface ReferenceInput {
  featureIds: readonly string[];
  /** Row-major raw feature values (`featureIds.length` wide), `rows` rows. */
  raw: Float32Array;
  /** Per feature, how many of the rows had no raw value before `fill`. */
  nullCounts: readonly number[];
  /** P(churn) of the same rows. */
  scores: ArrayLike<number>;
  rows: number;
  /** Share of the snapshot's rows that broke the input contract (recorded for drift). */
  quarantineRate?: number;
}

/** The drift reference stored in bundle.json: per-feature profiles and the score distribution. */
export function buildReferenceProfile(input: ReferenceInput): ReferenceProfile {
  const { featureIds, raw, rows } = input;
  if (rows < 1) throw new RangeError('a reference profile needs at least one row');
  const width = featureIds.length;
  const features: Record<string, FeatureProfile> = {};
  const column = new Float64Array(rows);
  featureIds.forEach((id, f) => {
    for (let r = 0; r < rows; r++) column[r] = raw[r * width + f]!;
    features[id] = featureProfile(column, input.nullCounts[f] ?? 0);
  });
  return { rows, ...(input.quarantineRate === undefined ? {} : { quarantineRate: input.quarantineRate }), features, score: scoreProfile(input.scores) };
}
