/**
 * The queue contracts against the real Redis on 127.0.0.1:6379 (started by .ci/run when
 * missing), under a key prefix of this test's own that is removed afterwards.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUES, defaultJobOptions, jobIds, parseJobData, queueConnectionFromEnv, shardJobSchema } from '@churn/jobs';

describe('queues on a real Redis', () => {
  const prefix = `churn-test-${process.pid}-${Date.now()}`;
  const { connection } = queueConnectionFromEnv({ REDIS_URL: 'redis://127.0.0.1:6379', CHURN_QUEUE_PREFIX: prefix });
  let queue: Queue;

  beforeAll(() => {
    queue = new Queue(QUEUES.shards, { connection, prefix, defaultJobOptions: defaultJobOptions() });
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    const redis = new Redis(connection);
    const left = await redis.keys(`${prefix}:*`);
    if (left.length > 0) await redis.del(...left);
    await redis.quit();
  });

  it('adds a shard once however often it is enqueued, and a worker receives valid data', async () => {
    const runId = 'churn-mlp-1.0.0_2026-11-28_0123456789ab';
    const data = { runId, attempt: 1, shard: { index: 0, file: 'file:///data/as_of=2026-11-28/part-00000.parquet', fileSize: 10, rowGroups: [0], firstRow: 0, rows: 5 } };
    await Promise.all([1, 2, 3].map(() => queue.add('shard', data, { jobId: jobIds.shard(runId, 1, 0) })));
    expect(await queue.getJobCounts('waiting', 'active', 'completed')).toMatchObject({ waiting: 1 });

    const seen: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const worker = new Worker(
        QUEUES.shards,
        async (job: Job) => {
          const parsed = parseJobData(shardJobSchema, job.data, job.id);
          seen.push(`${job.id}:${parsed.shard.rows}`);
          return { rows: parsed.shard.rows };
        },
        { connection, prefix },
      );
      worker.on('completed', () => void worker.close().then(resolve, reject));
      worker.on('failed', (_job, error) => void worker.close().then(() => reject(error), reject));
    });
    await done;
    expect(seen).toEqual([`${jobIds.shard(runId, 1, 0)}:5`]);
    const completed = await queue.getJob(jobIds.shard(runId, 1, 0));
    expect(completed?.returnvalue).toEqual({ rows: 5 });
  });
});
