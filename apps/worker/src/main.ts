import * as path from 'node:path';
import { availableParallelism } from 'node:os';
import { Worker } from 'bullmq';
import { closeOnSignals, QUEUES, queueConnectionFromEnv } from '@churn/jobs';
import { createObjectStore } from '@churn/object-store';
import type { Device } from '@churn/onnx-runner';
import type { ShardOutcome } from '@churn/warehouse';
import { ShardProcessor } from './shard-processor';
import { WorkerMetrics } from './worker-metrics';

export interface WorkerOptions {
  /** Shards scored at once (one scoring thread each); default one per core. */
  concurrency?: number;
  device?: Device;
  /** Port of /metrics and /healthz (0: none). */
  metricsPort?: number;
  /** The bundled shard-worker script; default beside this bundle in dist/cli. */
  workerScript?: string;
  log?: (message: string) => void;
}

/**
 * `churn worker`: consumes shard jobs until SIGTERM/SIGINT, then stops taking jobs, lets the
 * active ones finish (or hands them back when the lock is lost), releases its threads and exits.
 * Settings: REDIS_URL, CHURN_QUEUE_PREFIX, the AWS environment, and CHURN_STALLED_INTERVAL_MS /
 * CHURN_LOCK_DURATION_MS (shorter in tests that kill workers).
 */
export async function startWorker(options: WorkerOptions = {}): Promise<{ close(): Promise<void> }> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const concurrency = options.concurrency ?? availableParallelism();
  const { connection, prefix } = queueConnectionFromEnv();
  const processor = new ShardProcessor({
    store: createObjectStore(),
    workerScript: options.workerScript ?? path.join(__dirname, '..', 'cli', 'shard-worker.js'),
    threads: concurrency,
    ...(options.device ? { device: options.device } : {}),
    log,
  });
  const worker = new Worker(QUEUES.shards, processor.process, {
    connection,
    prefix,
    concurrency,
    lockDuration: Number(process.env['CHURN_LOCK_DURATION_MS'] ?? 60_000),
    stalledInterval: Number(process.env['CHURN_STALLED_INTERVAL_MS'] ?? 30_000),
    maxStalledCount: 2,
  });
  const metrics = new WorkerMetrics();
  const server = options.metricsPort ? await metrics.listen(options.metricsPort) : undefined;
  worker.on('completed', (job, outcome: ShardOutcome) => {
    metrics.shardDone(outcome);
    log(`shard job ${job.id} done`);
  });
  worker.on('failed', (job, error) => {
    metrics.shardFailed(/^([A-Z_]+):/.exec(error.message)?.[1] ?? error.name);
    log(`shard job ${job?.id ?? '?'} failed: ${error.message}`);
  });
  worker.on('error', (error) => log(`worker error: ${error.message}`));
  await worker.waitUntilReady();
  metrics.markReady(true);
  if (server) log(`metrics on :${options.metricsPort}/metrics, health on /healthz`);
  log(`worker ready: queue ${prefix}:${QUEUES.shards}, concurrency ${concurrency}${options.device ? `, device ${options.device}` : ''}`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log('shutting down: finishing active shard jobs');
      metrics.markReady(false);
      await worker.close();
      await processor.close();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    })());
  closeOnSignals(close);
  return { close };
}
