import { churnErrorOf } from '@churn/testing';
import { jobIds, QUEUES } from './queue-names';
import { parseJobData, shardJobSchema } from './job-payloads';
import { queueConnectionFromEnv } from './redis-connection';
import { defaultJobOptions } from './job-options';

describe('queueConnectionFromEnv', () => {
  it('defaults to local Redis and the churn prefix, with worker-safe retries', () => {
    const { connection, prefix } = queueConnectionFromEnv({});
    expect(prefix).toBe('churn');
    expect(connection).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0, maxRetriesPerRequest: null });
    expect(connection.tls).toBeUndefined();
  });

  it('reads user, password, database and TLS from REDIS_URL', () => {
    const { connection, prefix } = queueConnectionFromEnv({ REDIS_URL: 'rediss://scorer:p%40ss@redis.internal:6380/2', CHURN_QUEUE_PREFIX: 'nightly' });
    expect(prefix).toBe('nightly');
    expect(connection).toMatchObject({ host: 'redis.internal', port: 6380, db: 2, username: 'scorer', password: 'p@ss', tls: { servername: 'redis.internal' } });
  });

  it('refuses malformed settings with INVALID_ARGUMENT', async () => {
    for (const env of [{ REDIS_URL: 'not a url' }, { REDIS_URL: 'http://x:1' }, { REDIS_URL: 'redis://x:1/abc' }, { CHURN_QUEUE_PREFIX: 'a:b' }]) {
      expect((await churnErrorOf(() => queueConnectionFromEnv(env))).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('backs off reconnects up to 5 s', () => {
    const retry = queueConnectionFromEnv({}).connection.retryStrategy!;
    expect([1, 3, 20].map((t) => retry(t))).toEqual([200, 800, 5000]);
  });
});

describe('job ids and options', () => {
  it('derives ids from the run id, without ":"', () => {
    const runId = 'churn-mlp-1.0.0_2026-11-28';
    expect(jobIds.shard(runId, 7)).toBe('shard__churn-mlp-1.0.0_2026-11-28__00007');
    expect(jobIds.commit(runId)).toBe('commit__churn-mlp-1.0.0_2026-11-28');
    for (const id of [jobIds.plan(runId), jobIds.commit(runId), jobIds.shard(runId, 0)]) expect(id).not.toContain(':');
    expect(Object.values(QUEUES)).toEqual(['churn-runs', 'churn-shards', 'churn-commits', 'churn-schedules']);
    expect(jobIds.schedule('nightly')).toBe('schedule__nightly');
  });

  it('retries with exponential backoff and removes old jobs', () => {
    expect(defaultJobOptions(5)).toMatchObject({ attempts: 5, backoff: { type: 'exponential' }, removeOnComplete: { count: 10_000 }, removeOnFail: { count: 10_000 } });
  });
});

describe('shard job payloads', () => {
  const valid = {
    runId: 'churn-mlp-1.0.0_2026-11-28',
    asOf: '2026-11-28',
    model: 's3://models/churn-mlp',
    modelSha256: 'a'.repeat(64),
    output: 's3://warehouse/scores',
    scoredAt: '2026-11-28T02:00:00.000Z',
    shard: { index: 3, file: 's3://data/as_of=2026-11-28/part-00001.parquet', fileSize: 1000, rowGroups: [2, 3], firstRow: 131072, rows: 131072 },
    settings: { device: 'cuda', explain: { policy: 'band:high' } },
  };

  it('accepts a well-formed job', () => {
    expect(parseJobData(shardJobSchema, valid, 'j1').shard.rowGroups).toEqual([2, 3]);
  });

  it('names the job and every problem of a malformed one', async () => {
    const error = await churnErrorOf(() => parseJobData(shardJobSchema, { ...valid, runId: 'a:b', shard: { ...valid.shard, rowGroups: [] }, settings: { device: 'tpu' } }, 'shard__x'));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/^job shard__x carries invalid data: /);
    expect(error.message).toMatch(/runId: must not contain ":"/);
    expect(error.message).toMatch(/shard\.rowGroups/);
    expect(error.message).toMatch(/settings\.device/);
  });
});
