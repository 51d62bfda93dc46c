import { churnErrorOf } from '@churn/testing';
import { jobIds, parseCommitJobId, QUEUES } from './queue-names';
import { checkCron } from './schedules';
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
  it('derives ids from the run id and attempt, without ":"', () => {
    const runId = 'churn-mlp-1.0.0_2026-11-28_0123456789ab';
    expect(jobIds.shard(runId, 2, 7)).toBe('shard__churn-mlp-1.0.0_2026-11-28_0123456789ab__a2__00007');
    expect(jobIds.commit(runId, 1)).toBe('commit__churn-mlp-1.0.0_2026-11-28_0123456789ab__a1');
    for (const id of [jobIds.plan(runId, 1), jobIds.commit(runId, 3), jobIds.shard(runId, 1, 0)]) expect(id).not.toContain(':');
    expect(parseCommitJobId(jobIds.commit(runId, 3))).toEqual({ runId, attempt: 3 });
    expect(parseCommitJobId('plan__x__a1')).toBeUndefined();
    expect(Object.values(QUEUES)).toEqual(['churn-runs', 'churn-shards', 'churn-commits', 'churn-schedules']);
    expect(jobIds.schedule('nightly')).toBe('schedule__nightly');
  });

  it('retries with exponential backoff and removes old jobs', () => {
    expect(defaultJobOptions(5)).toMatchObject({ attempts: 5, backoff: { type: 'exponential' }, removeOnComplete: { count: 10_000 }, removeOnFail: { count: 10_000 } });
  });
});

describe('shard job payloads', () => {
  const valid = {
    runId: 'churn-mlp-1.0.0_2026-11-28_0123456789ab',
    attempt: 1,
    shard: { index: 3, file: 's3://data/as_of=2026-11-28/part-00001.parquet', fileSize: 1000, rowGroups: [2, 3], firstRow: 131072, rows: 131072 },
  };

  it('accepts a well-formed job: run, attempt and shard only (the plan comes from the flow parent)', () => {
    expect(parseJobData(shardJobSchema, valid, 'j1').shard.rowGroups).toEqual([2, 3]);
    expect(() => parseJobData(shardJobSchema, { ...valid, output: '/etc' }, 'j1')).toThrow(/Unrecognized key/);
  });

  it('names the job and every problem of a malformed one', async () => {
    const error = await churnErrorOf(() => parseJobData(shardJobSchema, { ...valid, runId: 'a:b', attempt: 0, shard: { ...valid.shard, rowGroups: [] } }, 'shard__x'));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/^job shard__x carries invalid data: /);
    expect(error.message).toMatch(/runId: letters, digits/);
    expect(error.message).toMatch(/attempt/);
    expect(error.message).toMatch(/shard\.rowGroups/);
  });
});

describe('checkCron', () => {
  it('accepts valid patterns and IANA zones, and refuses the rest naming the setting', async () => {
    expect(() => checkCron('0 2 * * *', 'Europe/Berlin')).not.toThrow();
    expect(() => checkCron('*/1 * * * * *')).not.toThrow();
    const cron = await churnErrorOf(() => checkCron('0 25 * * *'));
    expect(cron).toMatchObject({ code: 'INVALID_ARGUMENT', settings: ['cron'] });
    const tz = await churnErrorOf(() => checkCron('0 2 * * *', 'Mars/Olympus'));
    expect(tz).toMatchObject({ code: 'INVALID_ARGUMENT', settings: ['tz'] });
    expect(tz.message).toMatch(/unknown time zone "Mars\/Olympus"/);
  });
});
