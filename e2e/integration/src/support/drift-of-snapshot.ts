import { ColumnCache, compileFeaturePipeline, eligibleMask, validateContract } from '@churn/feature-transforms';
import type { LoadedBundle } from '@churn/model-bundle';
import { computeDrift, createDriftAccumulator, mergeDriftHistograms, type DriftHistograms, type DriftReport } from '@churn/monitoring';
import { createBundleScorer } from '@churn/model-trainer';
import { synthFileTable, type SynthOptions } from '@churn/synth-data';

/**
 * Drift of a synthetic snapshot against a bundle's reference, measured the way a scoring run
 * measures it: contract check, eligibility, the bundle's feature pipeline with the drift
 * accumulator as its sink, the bundle's ONNX model for the scores, one accumulator per file
 * (shard) merged at the end, quarantine rate = contract-breaking rows / rows read.
 */
export async function driftOfSnapshot(bundle: LoadedBundle, options: SynthOptions): Promise<DriftReport> {
  const { manifest } = bundle;
  const reference = manifest.reference!;
  const pipeline = compileFeaturePipeline(manifest.features);
  const scorer = await createBundleScorer(bundle);
  let merged: DriftHistograms | undefined;
  let read = 0;
  let quarantined = 0;
  try {
    for (let file = 0; file < (options.files ?? 4); file++) {
      const table = synthFileTable(options, file);
      const columns = new ColumnCache(table);
      const { badRows } = validateContract(columns, manifest.inputContract);
      const eligible = eligibleMask(columns, manifest.eligibility);
      const rows = Int32Array.from({ length: table.numRows }, (_, r) => r).filter((r) => !badRows.has(r) && eligible[r] === 1);
      const matrix = new Float32Array(rows.length * pipeline.featureIds.length);
      const accumulator = createDriftAccumulator(reference, pipeline.featureIds);
      pipeline.transform(columns, rows, matrix, accumulator);
      accumulator.addScores(await scorer.score(matrix, rows.length));
      read += table.numRows;
      quarantined += badRows.size;
      merged = merged ? mergeDriftHistograms(merged, accumulator.toJSON()) : accumulator.toJSON();
    }
  } finally {
    await scorer.release();
  }
  return computeDrift(reference, merged!, manifest.drift, { quarantineRate: quarantined / read });
}
