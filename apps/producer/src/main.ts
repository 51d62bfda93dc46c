import { Queue, Worker } from 'bullmq';
import { closeOnSignals, EVENTS_MAX_LEN, QUEUES, queueConnectionFromEnv } from '@churn/jobs';
import { createObjectStore } from '@churn/object-store';
import { commitRunJob, planRunJob, scheduleTickJob } from './run-planner-job';

export interface ProducerOptions {
  log?: (message: string) => void;
}

/**
 * `churn producer`: plans run requests into flows and commits finished runs. Several producers
 * may run at once: BullMQ hands each request and each commit to one of them.
 */
export async function startProducer(options: ProducerOptions = {}): Promise<{ close(): Promise<void> }> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const conn = queueConnectionFromEnv();
  const store = createObjectStore();
  const common = { connection: conn.connection, prefix: conn.prefix };
  // Cap each queue's event stream (kept in the queue's meta key), so Redis does not grow
  // with every nightly run.
  for (const name of Object.values(QUEUES)) {
    const queue = new Queue(name, { ...common, streams: { events: { maxLen: EVENTS_MAX_LEN } } });
    await queue.waitUntilReady();
    await queue.close();
  }
  const planner = new Worker(QUEUES.runs, (job) => planRunJob(store, conn, job), { ...common, concurrency: 2 });
  const committer = new Worker(QUEUES.commits, (job) => commitRunJob(store, job), { ...common, concurrency: 2 });
  const scheduler = new Worker(QUEUES.schedules, (job) => scheduleTickJob(store, conn, job), { ...common, concurrency: 1 });
  scheduler.on('completed', (job, result: { runId: string; enqueued: boolean }) => log(`schedule tick ${job.name}: run ${result.runId}${result.enqueued ? ' enqueued' : ' already enqueued'}`));
  scheduler.on('failed', (job, error) => log(`schedule tick ${job?.id ?? '?'} failed: ${error.message}`));
  planner.on('completed', (_job, result: { runId: string; shards: number }) => log(`planned run ${result.runId}: ${result.shards} shard(s)`));
  planner.on('failed', (job, error) => log(`planning ${job?.id ?? '?'} failed: ${error.message}`));
  committer.on('completed', (job) => log(`committed ${job.id}`));
  committer.on('failed', (job, error) => log(`commit ${job?.id ?? '?'} failed: ${error.message}`));
  for (const w of [planner, committer, scheduler]) w.on('error', (error) => log(`producer error: ${error.message}`));
  await Promise.all([planner.waitUntilReady(), committer.waitUntilReady(), scheduler.waitUntilReady()]);
  log(`producer ready: queues ${conn.prefix}:${QUEUES.runs}, ${conn.prefix}:${QUEUES.commits}`);
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= Promise.all([planner.close(), committer.close(), scheduler.close()]).then(() => undefined));
  closeOnSignals(close);
  return { close };
}
