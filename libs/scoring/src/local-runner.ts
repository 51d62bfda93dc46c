import { availableParallelism } from 'node:os';
import { serializeError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';
import { acquireLease, defaultLeaseTimeoutMs, readCommittedManifest, startHeartbeat, tableLayout, type RunPublisher, type ShardOutcome } from '@churn/warehouse';
import { runPool } from './async-pool';
import { commitRun } from './run-committer';
import { identifyRun, planFromFooters, readRunFooters, type RunRequestInput } from './run-plan';
import { summarizeRun, type RunSummary } from './run-summary';
import { shardRunOf } from './scoring-context';
import { createInProcessExecutor, type ShardExecutor } from './shard-executor';
import { createWorkerThreadExecutor } from './worker-thread-executor';

/** Progress of an embedded run: rows done so far (updated after every inference batch). */
export interface RunProgress {
  rowsDone: number;
  rowsTotal: number;
  shardsDone: number;
  shardsTotal: number;
}

export interface LocalRunOptions {
  store: ObjectStore;
  request: RunRequestInput;
  /**
   * The bundled shard-worker script. When given, shards are scored in worker threads, using
   * every core; otherwise on this thread with overlapping I/O.
   */
  workerScript?: string;
  onProgress?: (progress: RunProgress) => void;
  log?: (message: string) => void;
  /** Partition lease timeout (default CHURN_LEASE_TIMEOUT_MS or 5 minutes). */
  leaseTimeoutMs?: number;
  /** Where the committed run goes next (the warehouse), passed to commitRun. */
  publishers?: readonly RunPublisher[];
}

/**
 * The next attempt number of a run: after its committed attempt, or after the attempts that
 * failed (each leaves a `_FAILED` record in its staging folder).
 */
async function nextAttempt(store: ObjectStore, output: string, runId: string, asOf: string, model: string): Promise<number> {
  const table = tableLayout(output);
  let attempt = 0;
  const committed = await readCommittedManifest(store, table.partition(asOf, model)).catch(() => undefined);
  if (committed?.runId === runId) attempt = committed.attempt;
  for (const object of await store.list(`${table.staging(runId).runUri}/`)) {
    const m = /\/a(\d+)\/_FAILED$/.exec(object.uri);
    if (m) attempt = Math.max(attempt, Number(m[1]));
  }
  return attempt + 1;
}

/**
 * Embedded mode: plans the run (planRun's two halves, the same as distributed mode), takes the
 * partition's lease, scores the shards in worker threads (or on this thread), and commits with
 * the same commitRun. A failed run publishes nothing; the previous version stays readable.
 */
export async function runLocal(options: LocalRunOptions): Promise<RunSummary> {
  const started = new Date();
  const t0 = performance.now();
  const { store } = options;
  const run = await identifyRun(store, options.request);
  const execution = run.request.execution;
  const concurrency = execution.concurrency ?? (options.workerScript ? availableParallelism() : 2);
  const model = `${run.identity.model.name}-${run.identity.model.version}`;
  const table = tableLayout(run.identity.output);
  const layout = table.partition(run.partition.asOf, model);
  const attempt = await nextAttempt(store, run.identity.output, run.runId, run.partition.asOf, model);
  const staging = table.staging(run.runId).attempt(attempt);
  const timeoutMs = options.leaseTimeoutMs ?? defaultLeaseTimeoutMs();
  const lease = await acquireLease(store, layout.leaseUri, { runId: run.runId, attempt, timeoutMs, ...(options.log ? { log: options.log } : {}) });
  let leaseLost: unknown;
  const heartbeat = startHeartbeat(lease, Math.max(50, Math.floor(timeoutMs / 5)), (error) => (leaseLost ??= error));
  let executor: ShardExecutor | undefined;
  try {
    const footers = readRunFooters(store, run, Math.max(4, concurrency));
    // Threads start (module load, wasm compile, ONNX session) while footers are read; the shard
    // context needs only the run's identity, which is known before the footers.
    const shardRun = shardRunOf({ runId: run.runId, ...run.identity, execution, plannedAt: started.toISOString() }, attempt, concurrency);
    const executorReady = options.workerScript
      ? createWorkerThreadExecutor({ workerScript: options.workerScript, threads: concurrency, init: { bundle: run.bundle, run: shardRun }, ...(options.log ? { log: options.log } : {}) })
      : createInProcessExecutor({ store, bundle: run.bundle, run: shardRun, ...(options.log ? { log: options.log } : {}) }, concurrency);
    const read = await Promise.allSettled([footers, executorReady]);
    if (read[1].status === 'fulfilled') executor = read[1].value;
    if (read[0].status === 'rejected') throw read[0].reason;
    if (read[1].status === 'rejected') throw read[1].reason;
    const plan = { ...planFromFooters(run, await footers), plannedAt: started.toISOString() };
    const rowsTotal = plan.shards.reduce((a, s) => a + s.rows, 0);
    options.log?.(
      `run ${plan.runId} (attempt ${attempt}): ${rowsTotal} rows in ${plan.partition.files.length} file(s), ${plan.shards.length} shard(s), device ${executor!.device}${executor!.deviceFallbacks.length > 0 ? ` (auto: ${executor!.deviceFallbacks.join('; ')})` : ''}, ${concurrency} ${options.workerScript ? 'worker thread(s)' : 'concurrent shard(s)'}`,
    );
    const doneByShard = new Map<number, number>();
    let rowsDone = 0;
    let shardsDone = 0;
    const report = () => options.onProgress?.({ rowsDone, rowsTotal, shardsDone, shardsTotal: plan.shards.length });
    const outcomes: ShardOutcome[] = await runPool(plan.shards, concurrency, async (shard) => {
      const outcome = await executor!.score(shard, (rows) => {
        rowsDone += rows - (doneByShard.get(shard.index) ?? 0);
        doneByShard.set(shard.index, rows);
        report();
      });
      shardsDone++;
      report();
      return outcome;
    });
    // Worker threads wind down while the run is committed.
    const closed = executor!.close();
    executor = undefined;
    if (leaseLost) throw leaseLost;
    try {
      const { manifest, published } = await commitRun(plan, outcomes, {
        store,
        bundle: run.bundle,
        attempt,
        lease,
        execution: { mode: 'embedded', threads: options.workerScript ? concurrency : 1, concurrency },
        startedAt: started,
        ...(options.publishers ? { publishers: options.publishers } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
      return summarizeRun(plan, manifest, { mode: 'embedded', seconds: (performance.now() - t0) / 1000, published });
    } finally {
      await closed;
    }
  } catch (error) {
    // Nothing of a failed attempt is published; its staged files go, a record of why stays.
    await Promise.all((await store.list(`${staging.attemptUri}/`).catch(() => [])).map((o) => store.delete(o.uri).catch(() => undefined)));
    await store.put(`${staging.attemptUri}/_FAILED`, `${JSON.stringify({ failedAt: new Date().toISOString(), error: serializeError(error) }, null, 2)}\n`).catch(() => undefined);
    throw error;
  } finally {
    heartbeat.stop();
    await executor?.close().catch(() => undefined);
    await lease.release().catch(() => undefined);
  }
}
