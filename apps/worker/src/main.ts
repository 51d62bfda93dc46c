import * as path from 'node:path';
import type { Server } from 'node:http';
import { availableParallelism, hostname } from 'node:os';
import { Worker } from 'bullmq';
import { describeError } from '@churn/errors';
import { describeRedis, drainOnSignals, drainTimeoutFromEnv, jobProgressSchema, QUEUES, queueConnectionFromEnv, readyWithin, redactSecrets, shardLockSettingsFromEnv, takeoverBoundMs, watchRedis } from '@churn/jobs';
import { createLogger, logSettingsFromEnv } from '@churn/logging';
import { loadBundle, modelIoOf } from '@churn/model-bundle';
import { allowedLocationsFromEnv, createObjectStore, type ObjectStore } from '@churn/object-store';
import { OnnxScorer, type Device } from '@churn/onnx-runner';
import type { ShardOutcome } from '@churn/warehouse';
import { ShardProcessor } from './shard-processor';
import { WorkerMetrics } from './worker-metrics';

export interface WorkerOptions {
  /** Shards scored at once (one scoring thread each); default one per core. */
  concurrency?: number;
  device?: Device;
  /** Port of /metrics, /healthz and /livez (0: none). */
  metricsPort?: number;
  /** The bundled shard-worker script; default beside this bundle in dist/cli. */
  workerScript?: string;
  /** A bundle whose model the device must load before the worker takes jobs. */
  probeModel?: string;
}

const closeServer = (server: Server | undefined) => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));

/**
 * `churn worker`: consumes shard jobs until SIGTERM/SIGINT, then stops taking jobs, lets the
 * active ones finish (or hands them back when the lock is lost), releases its threads and exits,
 * all within the drain deadline. Fails at start, within the connect bound, when Redis cannot be
 * reached or the metrics port cannot be bound; once running it reconnects after an outage and
 * reports not ready meanwhile. Settings: REDIS_URL, CHURN_QUEUE_PREFIX, CHURN_CONNECT_TIMEOUT_MS,
 * CHURN_DRAIN_TIMEOUT_MS, the AWS environment, and the shard lock settings
 * (CHURN_LOCK_DURATION_MS, CHURN_STALLED_INTERVAL_MS, CHURN_MAX_STALLED_COUNT: how soon a shard
 * of a worker that vanished is scored elsewhere; see jobs/shard-locks.ts). Logs go to stdout
 * through @churn/logging (CHURN_LOG_FORMAT, CHURN_LOG_LEVEL), the Redis password redacted.
 */
export async function startWorker(options: WorkerOptions = {}): Promise<{ close(): Promise<void> }> {
  const settings = logSettingsFromEnv();
  const conn = queueConnectionFromEnv();
  const logger = createLogger({ name: 'churn-worker', settings, redact: (text) => redactSecrets(text, conn) });
  const log = logger.at('info');
  const concurrency = options.concurrency ?? availableParallelism();
  const deadlineMs = drainTimeoutFromEnv();
  const locations = allowedLocationsFromEnv();
  const locks = shardLockSettingsFromEnv();
  const store = createObjectStore();
  const metrics = new WorkerMetrics();
  // Bound first: a port that is taken is fatal before anything connects.
  const server = options.metricsPort ? await metrics.listen(options.metricsPort) : undefined;
  const processor = new ShardProcessor({
    store,
    conn,
    locations,
    workerScript: options.workerScript ?? path.join(__dirname, '..', 'cli', 'shard-worker.js'),
    threads: concurrency,
    ...(options.device ? { device: options.device } : {}),
    observer: metrics,
    logger,
  });
  const worker = new Worker(QUEUES.shards, processor.process, {
    connection: conn.connection,
    prefix: conn.prefix,
    concurrency,
    // Recorded on each job it takes (`processedBy`): which host and process scored a shard.
    name: `${hostname()}:${process.pid}`,
    ...locks,
    autorun: false,
  });
  const active = new Set<string>();
  // The processor logs a job's start, once it knows the job's model.
  worker.on('active', (job) => active.add(String(job.id)));
  worker.on('completed', (job, outcome: ShardOutcome) => {
    active.delete(String(job.id));
    logger.info(`shard job ${job.id} done: ${outcome.rowsScored} scored, ${outcome.rowsQuarantined} quarantined, ${outcome.rowsIneligible} ineligible`, {
      ...processor.fieldsOf(job),
      rowsScored: outcome.rowsScored,
      rowsQuarantined: outcome.rowsQuarantined,
      rowsIneligible: outcome.rowsIneligible,
    });
  });
  worker.on('failed', (job, error) => {
    if (job) active.delete(String(job.id));
    // The code as data, from the failure the processor recorded, never parsed from the text.
    const code = jobProgressSchema.safeParse(job?.progress).data?.failure?.code ?? 'INTERNAL';
    metrics.shardFailed(code);
    logger.error(`shard job ${job?.id ?? '?'} failed [${code}]: ${error.message}`, { ...(job ? processor.fieldsOf(job) : {}), code });
  });
  worker.on('error', (error) => logger.error(`worker error: ${error.message}`));
  try {
    await readyWithin(conn, worker, 'shard worker', (w) => w.close(true));
  } catch (error) {
    await Promise.all([processor.close(), closeServer(server)]);
    throw error;
  }
  let redisUp = true;
  const stopWatching = watchRedis(worker, (connected) => {
    redisUp = connected;
    metrics.markReady('redis', connected);
    if (connected) log(`connected to Redis at ${describeRedis(conn)}`);
    else logger.warn(`lost Redis at ${describeRedis(conn)}: not ready, reconnecting`);
  });
  if (server) log(`metrics on :${options.metricsPort}/metrics, readiness on /healthz, liveness on /livez`);
  log(`worker: ${locations.describe()}`);
  const probe = await probeDevice(store, options);
  if (probe) {
    // Jobs would only fail here: stay up, not ready, and let healthy workers take them.
    logger.error(`worker not ready: device ${options.device} cannot load a model (${probe}); taking no jobs`);
  } else {
    metrics.markReady('model', true);
    // An explicit device is the provider in use once the probe loaded a model on it.
    if (options.device && options.device !== 'auto') metrics.providerIs(options.device);
    metrics.markReady('accepting', true);
    void worker.run().catch((error: unknown) => logger.error(`worker stopped: ${describeError(error)}`));
    logger.info(
      `worker ready: queue ${conn.prefix}:${QUEUES.shards}, concurrency ${concurrency}${options.device ? `, device ${options.device}` : ''}, lock ${locks.lockDuration} ms, stall check every ${locks.stalledInterval} ms (a lost worker's shard is requeued within ${takeoverBoundMs(locks)} ms)`,
      { queue: `${conn.prefix}:${QUEUES.shards}`, concurrency, ...(options.device ? { device: options.device } : {}) },
    );
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      metrics.markReady('accepting', false);
      // With Redis down and nothing active there is nothing to hand back: close without waiting
      // on a connection that may never return. Otherwise finish the active jobs (their results
      // are saved if Redis comes back before the deadline).
      const force = !redisUp && active.size === 0;
      log(force ? 'shutting down: Redis is unreachable and no shard job is active' : `shutting down: finishing active shard jobs (${active.size})`);
      await worker.close(force);
      stopWatching();
      await processor.close();
      await closeServer(server);
    })());
  drainOnSignals({
    drain: close,
    abandon: async () => {
      stopWatching();
      // Drop the queue connection without waiting on it (with Redis gone it may never report
      // closed); the exit that follows ends every other socket. The scoring threads are
      // terminated first, so none is inside ONNX Runtime when the process exits.
      void worker.disconnect().catch(() => undefined);
      const abandoned = [...active].map((id) => `shard job ${id} (its lock expires and another worker scores it)`);
      await processor.terminate();
      return abandoned;
    },
    deadlineMs,
    log,
  });
  return { close };
}

/**
 * Loads a model on the configured device before taking jobs; returns why it failed, or
 * undefined when the device works (or is `auto`, which falls back to the CPU).
 */
async function probeDevice(store: ObjectStore, options: WorkerOptions): Promise<string | undefined> {
  if (!options.device || options.device === 'auto' || !options.probeModel) return undefined;
  try {
    const { manifest, modelBytes } = await loadBundle(store, options.probeModel);
    const scorer = await OnnxScorer.create({
      modelBytes,
      ...modelIoOf(manifest),
      device: options.device,
      intraOpThreads: 1,
    });
    await scorer.release();
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}
