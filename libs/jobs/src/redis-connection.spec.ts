import { churnErrorOf } from '@churn/testing';
import { describeRedis, durationFromEnv, queueConnectionFromEnv, redactRedisUrl, redactSecrets } from './redis-connection';

describe('redactRedisUrl', () => {
  it('hides the password of well-formed and malformed URLs', () => {
    expect(redactRedisUrl('redis://user:s3cret@127.0.0.1:6379/0')).toBe('redis://user:***@127.0.0.1:6379/0');
    expect(redactRedisUrl('rediss://:s3cret@redis.internal:6380')).toBe('rediss://***@redis.internal:6380');
    // A password holding "/" or "@" breaks URL parsing: everything up to the last "@" goes.
    expect(redactRedisUrl('redis://user:s3c/r@t@127.0.0.1:1')).toBe('redis://user:***@127.0.0.1:1');
    // A password given without a user or a ":" at all.
    expect(redactRedisUrl('redis://s3cret@host:1')).toBe('redis://***@host:1');
    expect(redactRedisUrl('user:s3cret@host:1')).toBe('user:***@host:1');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('queueConnectionFromEnv errors', () => {
  it('never echoes the password of a malformed REDIS_URL', async () => {
    for (const url of ['redis://user:s3c/ret@127.0.0.1:1', 'redis://:s3cret@', 'redis//user:s3cret@host', 'redis://user:s3c#ret@127.0.0.1:1']) {
      const error = await churnErrorOf(() => queueConnectionFromEnv({ REDIS_URL: url }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(`${error.message} ${JSON.stringify(error.details)} ${String(error.cause ?? '')}`).not.toMatch(/s3c/);
    }
  });

  it('bounds connecting at 5 s by default, configurable, and refuses nonsense', async () => {
    expect(queueConnectionFromEnv({}).connectTimeoutMs).toBe(5000);
    expect(queueConnectionFromEnv({ CHURN_CONNECT_TIMEOUT_MS: '1500' }).connectTimeoutMs).toBe(1500);
    for (const bad of ['0', '-1', '2.5', 'soon']) {
      const error = await churnErrorOf(() => durationFromEnv({ X_MS: bad }, 'X_MS', 1));
      expect(error.message).toBe(`X_MS must be a positive number of milliseconds, got "${bad}"`);
    }
  });
});

describe('describeRedis and redactSecrets', () => {
  const conn = queueConnectionFromEnv({ REDIS_URL: 'rediss://scorer:p%40ss%2Fword@redis.internal:6380/2' });

  it('names scheme, host and port, never credentials', () => {
    expect(describeRedis(conn)).toBe('rediss://redis.internal:6380 (TLS)');
    expect(describeRedis(queueConnectionFromEnv({ REDIS_URL: 'redis://:x@10.0.0.5:6379' }))).toBe('redis://10.0.0.5:6379');
  });

  it('removes the password, decoded or percent-encoded, from any text', () => {
    expect(redactSecrets('AUTH p@ss/word failed; url rediss://scorer:p%40ss%2Fword@h', conn)).toBe('AUTH *** failed; url rediss://scorer:***@h');
    expect(redactSecrets('nothing secret', queueConnectionFromEnv({}))).toBe('nothing secret');
  });
});
