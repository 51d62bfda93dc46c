import { Worker } from 'bullmq';
import { closeClients, connectQueue, drainOnSignals, drainTimeoutFromEnv, EVENTS_MAX_LEN, jobProgressSchema, QUEUES, queueConnectionFromEnv, readyWithin, redactSecrets, type RunRequestResult } from '@churn/jobs';
import { createLogger, logSettingsFromEnv } from '@churn/logging';
import { allowedLocationsFromEnv, createObjectStore } from '@churn/object-store';
import { pricePerDeviceHourFromEnv, type RunSummary } from '@churn/scoring';
import { defaultLeaseTimeoutMs } from '@churn/warehouse';
import { startLeaseKeeper } from './lease-keeper';
import { commitRunJob, fieldsOfJob, planRunJob, scheduleTickJob, type ProducerContext } from './producer-jobs';
import { ProducerMetrics } from './producer-metrics';

export interface ProducerOptions {
  /** Port of /metrics, /healthz and /livez (0 or absent: none). */
  metricsPort?: number;
}

/**
 * `churn producer`: plans run requests into flows, commits finished runs and keeps their
 * partition leases. Several producers may run at once: BullMQ hands each request and each
 * commit to one of them. Fails at start, within the connect bound, when Redis cannot be
 * reached (or the metrics port cannot be bound); reconnects after an outage once running;
 * drains on SIGTERM/SIGINT within the drain deadline. Logs go to stdout through @churn/logging
 * (CHURN_LOG_FORMAT, CHURN_LOG_LEVEL), the Redis password redacted.
 */
export async function startProducer(options: ProducerOptions = {}): Promise<{ close(): Promise<void> }> {
  const settings = logSettingsFromEnv();
  const conn = queueConnectionFromEnv();
  const logger = createLogger({ name: 'churn-producer', settings, redact: (text) => redactSecrets(text, conn) });
  const log = logger.at('info');
  const deadlineMs = drainTimeoutFromEnv();
  const locations = allowedLocationsFromEnv();
  const leaseTimeoutMs = defaultLeaseTimeoutMs();
  const price = pricePerDeviceHourFromEnv();
  const ctx: ProducerContext = { store: createObjectStore(), conn, locations, leaseTimeoutMs, ...(price === undefined ? {} : { pricePerDeviceHour: price }), logger };
  const common = { connection: conn.connection, prefix: conn.prefix };
  // Cap each queue's event stream (kept in the queue's meta key), so Redis does not grow
  // with every nightly run.
  for (const name of Object.values(QUEUES)) {
    await closeClients(await connectQueue(conn, name, { streams: { events: { maxLen: EVENTS_MAX_LEN } } }));
  }
  const planner = new Worker(QUEUES.runs, (job) => planRunJob(ctx, job), { ...common, concurrency: 2 });
  const committer = new Worker(QUEUES.commits, (job) => commitRunJob(ctx, job), { ...common, concurrency: 2 });
  const scheduler = new Worker(QUEUES.schedules, (job) => scheduleTickJob(ctx, job), { ...common, concurrency: 1 });
  const workers = [planner, committer, scheduler];
  const active = new Set<string>();
  for (const w of workers) {
    w.on('active', (job) => active.add(`${w.name} job ${job.id}`));
    w.on('completed', (job) => active.delete(`${w.name} job ${job.id}`));
    w.on('failed', (job) => job && active.delete(`${w.name} job ${job.id}`));
  }
  scheduler.on('completed', (job, result: RunRequestResult) =>
    logger.info(`schedule tick ${job.name}: run ${result.runId} attempt ${result.attempt}${result.enqueued ? ' enqueued' : ` already ${result.state ?? 'enqueued'}`}`, {
      jobId: String(job.id),
      schedule: job.name,
      runId: result.runId,
      attempt: result.attempt,
    }),
  );
  scheduler.on('failed', (job, error) => logger.error(`schedule tick ${job?.id ?? '?'} failed: ${error.message}`, { ...fieldsOfJob(job), ...(job ? { schedule: job.name } : {}) }));
  // Queue depths are read only when served: without a port, the hooks below just count.
  const metrics = new ProducerMetrics(options.metricsPort ? { connection: conn } : {});
  // Failure codes come from what the processors recorded in the job, never from message text.
  const codeOf = (job: { progress?: unknown } | undefined) => jobProgressSchema.safeParse(job?.progress).data?.failure?.code ?? 'INTERNAL';
  planner.on('completed', (job, result: { runId: string; attempt: number; model: string; shards: number }) => {
    metrics.planCompleted(result);
    logger.info(`planned run ${result.runId} attempt ${result.attempt}: ${result.shards} shard(s)`, { ...fieldsOfJob(job), model: result.model, shards: result.shards });
  });
  planner.on('failed', (job, error) => {
    metrics.planFailed(codeOf(job));
    logger.error(`planning ${job?.id ?? '?'} failed [${codeOf(job)}]: ${error.message}`, { ...fieldsOfJob(job), code: codeOf(job) });
  });
  committer.on('completed', (job, summary: RunSummary) => {
    metrics.commitCompleted(job, summary);
    logger.info(`committed ${job.id}: ${summary.rowsScored} rows scored`, { ...fieldsOfJob(job), rowsScored: summary.rowsScored });
  });
  committer.on('failed', (job, error) => {
    metrics.commitFailed(codeOf(job));
    logger.error(`commit ${job?.id ?? '?'} failed [${codeOf(job)}]: ${error.message}`, { ...fieldsOfJob(job), code: codeOf(job) });
  });
  for (const w of workers) w.on('error', (error) => logger.error(`producer error: ${error.message}`));
  const started = await Promise.allSettled(workers.map((w) => readyWithin(conn, w, `${w.name} worker`, (x) => x.close(true))));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  // Redis answers now, so the metrics' first read (seeding) cannot hang.
  const server = failed || !options.metricsPort ? undefined : await metrics.listen(options.metricsPort).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  if (failed || server instanceof Error) {
    await Promise.all([...workers.map((w) => w.close(true)), metrics.close()]);
    throw failed ? failed.reason : server;
  }
  const keeper = startLeaseKeeper(ctx, Math.max(100, Math.floor(leaseTimeoutMs / 5)));
  metrics.markReady(true);
  if (server) log(`metrics on :${options.metricsPort}/metrics, health on /healthz and /livez`);
  log(`producer: ${locations.describe()}`);
  log(`producer ready: queues ${conn.prefix}:${QUEUES.runs}, ${conn.prefix}:${QUEUES.commits}`);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      metrics.markReady(false);
      // With Redis down and nothing active there is nothing to finish: close without waiting on
      // a connection that may never return.
      const down = (await Promise.all(workers.map((w) => w.client.then((c) => c.status !== 'ready', () => true)))).some(Boolean);
      await Promise.all([...workers.map((w) => w.close(down && active.size === 0)), keeper.stop()]);
      await metrics.close();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    })());
  drainOnSignals({
    drain: close,
    abandon: () => {
      // Drop the connections without waiting on them; the exit that follows ends every socket.
      for (const w of workers) void w.disconnect().catch(() => undefined);
      return [...active].map((job) => `${job} (another producer takes it over once its lock expires)`);
    },
    deadlineMs,
    log,
  });
  return { close };
}
