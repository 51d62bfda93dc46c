import { availableParallelism } from 'node:os';
import type { ParquetFooter } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import type { LoadedBundle } from '@churn/model-bundle';
import type { ObjectStore } from '@churn/object-store';
import type { Device } from '@churn/onnx-runner';
import { beginPartition, type PartitionLayout, type RunIdentity, type RunManifest, type ShardOutcome } from '@churn/warehouse';
import { runPool } from './async-pool';
import { commitRun, inputFilesOf } from './run-committer';
import { readRunFooters, resolveRun, runIdentity } from './run-planner';
import type { ExplainOverrides, ScoringSettings } from './scoring-settings';
import { createInProcessExecutor, type ShardExecutor } from './shard-executor';
import { planShards } from './shard-planner';
import { createWorkerThreadExecutor } from './worker-thread-executor';

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

  const resolved = await resolveRun(store, options);
  const { runId, layout, output, partition } = resolved;
  const run = runIdentity(resolved, started);

  // Worker threads start (module load, wasm compile, ONNX session) while footers are read.
  const executorReady = startExecutor({ ...options, concurrency, bundle: resolved.bundle, run, layout, output });
  let footers: ParquetFooter[];
  try {
    footers = await readRunFooters(store, resolved, concurrency);
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
  let committed: RunManifest;
  try {
    committed = await commitRun(store, {
      run: resolved,
      inputFiles: inputFilesOf(footers),
      outcomes,
      explain: executor.explain,
      settings: { shardRows, batchRows: executor.batchRows, concurrency, threads: options.workerScript ? concurrency : 1, maxBadRowFraction: executor.maxBadRowFraction, mode: 'embedded' },
      startedAt: started,
    });
  } finally {
    await closed;
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    runId,
    asOf: partition.asOf,
    model: resolved.modelId,
    rowsRead: committed.rowsRead,
    rowsScored: committed.rowsScored,
    rowsQuarantined: committed.rowsQuarantined,
    rowsIneligible: committed.rowsIneligible,
    rowsPerSecond: Math.round(committed.rowsRead / seconds),
    seconds: Math.round(seconds * 1000) / 1000,
    shards: shards.length,
    device: executor.device,
    output: layout.partitionUri,
    manifest: layout.manifestUri,
    quarantineReasons: committed.quarantineReasons,
    bandCounts: committed.bandCounts,
    rowsExplained: committed.rowsExplained,
    modelEvaluations: committed.modelEvaluations,
  };
}
