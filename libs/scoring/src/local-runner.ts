import { readParquetFooter, resolvePartition, type ParquetFooter } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { missingColumns } from '@churn/feature-transforms';
import { loadBundle, modelId, type LoadedBundle } from '@churn/model-bundle';
import { normalizeUri, type ObjectStore } from '@churn/object-store';
import type { Device } from '@churn/onnx-runner';
import {
  beginPartition,
  commitPartition,
  mergeOutcomes,
  partitionLayout,
  runIdFor,
  type PartitionLayout,
  type RunIdentity,
  type RunManifest,
  type ShardOutcome,
} from '@churn/warehouse';
import { runPool } from './async-pool';
import { availableParallelism } from 'node:os';
import { createInProcessExecutor, type ShardExecutor } from './shard-executor';
import type { ExplainOverrides, ScoringSettings } from './scoring-settings';
import { createWorkerThreadExecutor } from './worker-thread-executor';
import { planShards } from './shard-planner';

export interface LocalRunOptions {
  store: ObjectStore;
  input: string;
  asOf?: string;
  model: string;
  output: string;
  device?: Device;
  batchRows?: number;
  /** Overrides of the bundle's explanation settings (policy, method, permutations, ...). */
  explain?: ExplainOverrides;
  shardRows?: number;
  /** Shards scored at once (default: 2 in-process, or one worker thread per core). */
  concurrency?: number;
  /**
   * The bundled shard-worker script. When given, shards are scored in worker threads, using
   * every core; otherwise on this thread with overlapping I/O.
   */
  workerScript?: string;
  maxBadRowFraction?: number;
  /** Called after each shard with cumulative rows done. */
  onProgress?: (progress: { rowsDone: number; rowsTotal: number; shardsDone: number; shardsTotal: number }) => void;
  log?: (message: string) => void;
}

/** The run summary: the last line `churn score` prints, as JSON. */
export interface LocalRunSummary {
  runId: string;
  asOf: string;
  model: string;
  rowsRead: number;
  rowsScored: number;
  rowsQuarantined: number;
  rowsIneligible: number;
  rowsPerSecond: number;
  seconds: number;
  shards: number;
  device: string;
  output: string;
  manifest: string;
  quarantineReasons: Record<string, number>;
  bandCounts: Record<string, number>;
  rowsExplained: number;
  modelEvaluations: number;
}

async function readFooters(store: ObjectStore, files: { uri: string; size: number }[], concurrency: number): Promise<ParquetFooter[]> {
  return runPool(files, Math.max(4, concurrency), (f) => readParquetFooter({ store, uri: f.uri, size: f.size }));
}

interface ExecutorSettings extends LocalRunOptions {
  concurrency: number;
  bundle: LoadedBundle;
  run: RunIdentity;
  layout: PartitionLayout;
  output: string;
}

function startExecutor(options: ExecutorSettings): Promise<ShardExecutor> {
  const settings: ScoringSettings = {
    device: options.device ?? 'auto',
    ...(options.batchRows ? { batchRows: options.batchRows } : {}),
    ...(options.maxBadRowFraction === undefined ? {} : { maxBadRowFraction: options.maxBadRowFraction }),
    ...(options.explain ? { explain: options.explain } : {}),
  };
  if (options.workerScript) {
    return createWorkerThreadExecutor({
      workerScript: options.workerScript,
      threads: options.concurrency,
      init: { bundle: options.bundle, run: { ...options.run, scoredAt: options.run.scoredAt.toISOString() }, output: options.output, settings },
    });
  }
  return createInProcessExecutor(
    { store: options.store, bundle: options.bundle, run: options.run, layout: options.layout, settings, ...(options.log ? { log: options.log } : {}) },
    options.concurrency,
  );
}

/**
 * Embedded mode: plans shards from Parquet footers, scores them in worker threads (or on this
 * thread with overlapping I/O), and commits the partition. Any failed shard fails the run
 * before `_SUCCESS` is written.
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunSummary> {
  const started = new Date();
  const t0 = performance.now();
  const { store } = options;
  const concurrency = options.concurrency ?? (options.workerScript ? availableParallelism() : 2);
  const shardRows = options.shardRows ?? 131_072;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ChurnError('INVALID_ARGUMENT', `--concurrency must be a positive integer, got ${concurrency}`);
  if (!Number.isInteger(shardRows) || shardRows < 1) throw new ChurnError('INVALID_ARGUMENT', `--shard-rows must be a positive integer, got ${shardRows}`);
  if (options.batchRows !== undefined && (!Number.isInteger(options.batchRows) || options.batchRows < 1)) {
    throw new ChurnError('INVALID_ARGUMENT', `--batch-rows must be a positive integer, got ${options.batchRows}`);
  }

  const bundle = await loadBundle(store, options.model);
  const { manifest } = bundle;
  const partition = await resolvePartition(store, options.input, options.asOf);
  const id = modelId(manifest);
  const runId = runIdFor(id, partition.asOf);
  const output = normalizeUri(options.output);
  const layout = partitionLayout(output, partition.asOf, id);
  const run = { runId, asOf: partition.asOf, modelName: manifest.name, modelVersion: manifest.version, scoredAt: started };

  // Worker threads start (module load, wasm compile, ONNX session) while footers are read.
  const executorReady = startExecutor({ ...options, concurrency, bundle, run, layout, output });
  let footers: ParquetFooter[];
  try {
    footers = await readFooters(store, partition.files, concurrency);
    for (const footer of footers) {
      const missing = missingColumns(footer.schema, manifest.inputContract);
      if (missing.length > 0) {
        throw new ChurnError('CONTRACT_VIOLATION', `${footer.uri} has no column ${missing.map((m) => `"${m}"`).join(', ')} required by the input contract of ${id}; fix the export or the bundle's inputContract`, {
          details: { file: footer.uri, missingColumns: missing },
        });
      }
    }
    if (footers.every((f) => f.numRows === 0)) throw new ChurnError('INPUT_NOT_FOUND', `partition ${partition.partitionUri} holds no rows`);
  } catch (error) {
    await executorReady.then((e) => e.close(), () => undefined);
    throw error;
  }
  const executor = await executorReady;
  const shards = planShards(footers, shardRows);
  const rowsTotal = footers.reduce((a, f) => a + f.numRows, 0);
  options.log?.(
    `run ${runId}: ${rowsTotal} rows in ${partition.files.length} file(s), ${shards.length} shard(s), device ${executor.device}, ${concurrency} ${options.workerScript ? 'worker thread(s)' : 'concurrent shard(s)'}`,
  );

  let outcomes: ShardOutcome[];
  try {
    await beginPartition(store, layout);
    let rowsDone = 0;
    let shardsDone = 0;
    outcomes = await runPool(shards, concurrency, async (shard) => {
      const outcome = await executor.score(shard);
      rowsDone += outcome.rowsRead;
      shardsDone++;
      options.onProgress?.({ rowsDone, rowsTotal, shardsDone, shardsTotal: shards.length });
      return outcome;
    });
  } catch (error) {
    await executor.close();
    throw error;
  }
  // Worker threads wind down while the run is committed.
  const closed = executor.close();

  const totals = mergeOutcomes(outcomes);
  const runManifest: RunManifest = {
    formatVersion: 1,
    runId,
    asOf: partition.asOf,
    model: { name: manifest.name, version: manifest.version, sha256: manifest.model.sha256, bundle: bundle.uri },
    input: { partition: partition.partitionUri, files: footers.map((f) => ({ uri: f.uri, size: f.size, rows: f.numRows })) },
    output: layout.partitionUri,
    device: executor.device,
    startedAt: started.toISOString(),
    committedAt: new Date().toISOString(),
    settings: { shardRows, batchRows: executor.batchRows, concurrency, threads: options.workerScript ? concurrency : 1, maxBadRowFraction: executor.maxBadRowFraction, mode: 'embedded' },
    explain: executor.explain,
    ...totals,
    shards: outcomes,
  };
  if (totals.rowsScored + totals.rowsQuarantined + totals.rowsIneligible !== totals.rowsRead || totals.rowsRead !== rowsTotal) {
    throw new ChurnError('COMMIT_FAILED', `row accounting does not balance (read ${totals.rowsRead} of ${rowsTotal}, scored ${totals.rowsScored}, quarantined ${totals.rowsQuarantined}, ineligible ${totals.rowsIneligible}); the run was not committed`);
  }
  try {
    await commitPartition(store, layout, runManifest);
  } finally {
    await closed;
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    runId,
    asOf: partition.asOf,
    model: id,
    rowsRead: totals.rowsRead,
    rowsScored: totals.rowsScored,
    rowsQuarantined: totals.rowsQuarantined,
    rowsIneligible: totals.rowsIneligible,
    rowsPerSecond: Math.round(totals.rowsRead / seconds),
    seconds: Math.round(seconds * 1000) / 1000,
    shards: shards.length,
    device: executor.device,
    output: layout.partitionUri,
    manifest: layout.manifestUri,
    quarantineReasons: totals.quarantineReasons,
    bandCounts: totals.bandCounts,
    rowsExplained: totals.rowsExplained,
    modelEvaluations: totals.modelEvaluations,
  };
}
