import { readParquetFooter, resolvePartition, type DatasetPartition, type ParquetFooter } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { missingColumns } from '@churn/feature-transforms';
import { loadBundle, modelId, type LoadedBundle } from '@churn/model-bundle';
import { normalizeUri, type ObjectStore } from '@churn/object-store';
import { partitionLayout, runIdFor, type PartitionLayout, type RunIdentity } from '@churn/warehouse';
import { runPool } from './async-pool';

/** A run's identity and locations: what is known before any Parquet footer is read. */
export interface ResolvedRun {
  bundle: LoadedBundle;
  partition: DatasetPartition;
  runId: string;
  modelId: string;
  output: string;
  layout: PartitionLayout;
}

/**
 * Loads and verifies the bundle and finds the partition (the latest when `asOf` is absent). The
 * run id is `<name>-<version>_<asOf>`: resolving the same request twice gives the same run, in
 * embedded mode and on the queue alike.
 */
export async function resolveRun(store: ObjectStore, request: { input: string; asOf?: string; model: string; output: string }): Promise<ResolvedRun> {
  const bundle = await loadBundle(store, request.model);
  const partition = await resolvePartition(store, request.input, request.asOf);
  const id = modelId(bundle.manifest);
  const output = normalizeUri(request.output);
  return { bundle, partition, runId: runIdFor(id, partition.asOf), modelId: id, output, layout: partitionLayout(output, partition.asOf, id) };
}

/** The identity every part of the run is stamped with. */
export function runIdentity(run: ResolvedRun, scoredAt: Date): RunIdentity {
  const { manifest } = run.bundle;
  return { runId: run.runId, asOf: run.partition.asOf, modelName: manifest.name, modelVersion: manifest.version, scoredAt };
}

/**
 * Reads every file's footer (ranged reads) and refuses the run before anything is scored when a
 * file lacks a contract column or the partition holds no rows.
 */
export async function readRunFooters(store: ObjectStore, run: ResolvedRun, concurrency = 4): Promise<ParquetFooter[]> {
  const footers = await runPool(run.partition.files, Math.max(4, concurrency), (f) => readParquetFooter({ store, uri: f.uri, size: f.size }));
  const contract = run.bundle.manifest.inputContract;
  for (const footer of footers) {
    const missing = missingColumns(footer.schema, contract);
    if (missing.length > 0) {
      throw new ChurnError('CONTRACT_VIOLATION', `${footer.uri} has no column ${missing.map((m) => `"${m}"`).join(', ')} required by the input contract of ${run.modelId}; fix the export or the bundle's inputContract`, {
        details: { file: footer.uri, missingColumns: missing },
      });
    }
  }
  if (footers.every((f) => f.numRows === 0)) throw new ChurnError('INPUT_NOT_FOUND', `partition ${run.partition.partitionUri} holds no rows`);
  return footers;
}
