import { z } from 'zod';
import { ChurnError } from '@churn/errors';
import type { ReferenceProfile } from '@churn/model-bundle';
import { binIndex, binKernel, type BinKernel } from './histogram-bins';

const count = z.number().int().min(0);

/** One feature's counts in its reference bins, and the rows that had no value before `fill`. */
export const featureHistogramSchema = z.object({ counts: z.array(count).min(1), nulls: count }).strict();

/**
 * What a shard returns for drift: per-feature and score counts in the reference profile's bins.
 * Plain JSON (crosses worker threads and Redis); merging two is adding their counts.
 */
export const driftHistogramsSchema = z
  .object({
    formatVersion: z.literal(1),
    /** Scored rows counted (the score histogram's total). */
    rows: count,
    /** Keyed by feature id; features the reference profile has no bins for are absent. */
    features: z.record(z.string(), featureHistogramSchema),
    /** Model features the reference profile has no bins for (not tracked). */
    unprofiled: z.array(z.string()),
    score: z.object({ counts: z.array(count).min(1) }).strict(),
  })
  .strict();

export type DriftHistograms = z.output<typeof driftHistogramsSchema>;

/**
 * Collects drift histograms of one shard. It is a `FeatureValueSink` of the feature pipeline:
 * pass it as `pipeline.transform(columns, rows, matrix, accumulator)` and every feature's values
 * (after fill, clip and log1p, before standardisation: the reference profile's space) and null
 * count are binned while the model input is written.
 */
export interface DriftAccumulator {
  /** The pipeline's feature order, as given to createDriftAccumulator. */
  readonly featureIds: readonly string[];
  /** Bins `count` values of feature `feature` (index into featureIds); `nulls` of them had no value before fill. */
  featureValues(feature: number, values: Float64Array, count: number, nulls: number): void;
  /** Bins a row-major matrix of profile-space values (`featureIds.length` wide); nulls go through addNulls. */
  addFeatureMatrix(matrix: Float32Array, rows: number): void;
  /** Adds per-feature null counts (same order as featureIds). */
  addNulls(nullCounts: ArrayLike<number>): void;
  /** Bins P(churn) of the scored rows (the first `count`, default all). */
  addScores(scores: ArrayLike<number>, count?: number): void;
  toJSON(): DriftHistograms;
}

interface TrackedFeature {
  id: string;
  kernel: BinKernel;
  counts: Float64Array;
  nulls: number;
}

/**
 * An empty accumulator over `reference`'s bins for the features `featureIds` (the pipeline's
 * order). Features without a reference profile are not tracked.
 */
export function createDriftAccumulator(reference: ReferenceProfile, featureIds: readonly string[]): DriftAccumulator {
  const tracked: (TrackedFeature | undefined)[] = featureIds.map((id) => {
    const profile = reference.features[id];
    return profile ? { id, kernel: binKernel(profile.edges), counts: new Float64Array(profile.edges.length - 1), nulls: 0 } : undefined;
  });
  const scoreEdges = Float64Array.from(reference.score.edges);
  const scoreCounts = new Float64Array(scoreEdges.length - 1);
  let rows = 0;
  let scratch = new Float64Array(0);
  const width = featureIds.length;

  return {
    featureIds,
    featureValues(feature, values, n, nulls) {
      const t = tracked[feature];
      if (!t) return;
      t.kernel(values, n, t.counts);
      t.nulls += nulls;
    },
    addFeatureMatrix(matrix, n) {
      if (scratch.length < n) scratch = new Float64Array(n);
      tracked.forEach((t, f) => {
        if (!t) return;
        // One contiguous column per feature keeps the kernels monomorphic (Float64Array only).
        for (let r = 0, o = f; r < n; r++, o += width) scratch[r] = matrix[o]!;
        t.kernel(scratch, n, t.counts);
      });
    },
    addNulls(nullCounts) {
      tracked.forEach((t, f) => {
        if (t) t.nulls += nullCounts[f] ?? 0;
      });
    },
    addScores(scores, n = scores.length) {
      for (let i = 0; i < n; i++) scoreCounts[binIndex(scoreEdges, scores[i]!)]! += 1;
      rows += n;
    },
    toJSON() {
      const features: DriftHistograms['features'] = {};
      for (const t of tracked) if (t) features[t.id] = { counts: Array.from(t.counts), nulls: t.nulls };
      const unprofiled = featureIds.filter((_, f) => !tracked[f]);
      return { formatVersion: 1, rows, features, unprofiled, score: { counts: Array.from(scoreCounts) } };
    },
  };
}

function addCounts(a: readonly number[], b: readonly number[], what: string): number[] {
  if (a.length !== b.length) {
    throw new ChurnError('INVALID_ARGUMENT', `cannot merge drift histograms: ${what} has ${a.length} bins on one side and ${b.length} on the other; both must come from the same model bundle's reference profile`, {
      details: { what, left: a.length, right: b.length },
    });
  }
  return a.map((v, i) => v + b[i]!);
}

/** The sum of two shards' histograms (associative and commutative); both must use the same reference bins. */
export function mergeDriftHistograms(a: DriftHistograms, b: DriftHistograms): DriftHistograms {
  const ids = Object.keys(a.features);
  const other = Object.keys(b.features);
  if (ids.length !== other.length || ids.some((id) => !b.features[id])) {
    throw new ChurnError('INVALID_ARGUMENT', `cannot merge drift histograms of different features: [${ids.join(', ')}] and [${other.join(', ')}]`, {
      details: { left: ids, right: other },
    });
  }
  const features: DriftHistograms['features'] = {};
  for (const id of ids) {
    const left = a.features[id]!;
    const right = b.features[id]!;
    features[id] = { counts: addCounts(left.counts, right.counts, `feature ${id}`), nulls: left.nulls + right.nulls };
  }
  return { formatVersion: 1, rows: a.rows + b.rows, features, unprofiled: a.unprofiled, score: { counts: addCounts(a.score.counts, b.score.counts, 'the score') } };
}
