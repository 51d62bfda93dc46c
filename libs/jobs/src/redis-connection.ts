import type { RedisOptions } from 'ioredis';
import { ChurnError } from '@churn/errors';

/** Where the queues live: a Redis connection and the key prefix all queue keys share. */
export interface QueueConnection {
  connection: RedisOptions;
  prefix: string;
}

/**
 * Connection settings from `REDIS_URL` (`redis://[user:password@]host:port[/db]`, or `rediss://`
 * for TLS) and `CHURN_QUEUE_PREFIX` (default `churn`). BullMQ workers need
 * `maxRetriesPerRequest: null`, so a Redis outage blocks and reconnects instead of failing jobs.
 */
export function queueConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): QueueConnection {
  const raw = env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new ChurnError('INVALID_ARGUMENT', `REDIS_URL "${raw}" is not a URL; use redis://host:port or rediss://user:password@host:port/db`, { cause });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ChurnError('INVALID_ARGUMENT', `REDIS_URL must start with redis:// or rediss://, got "${url.protocol}//"`);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new ChurnError('INVALID_ARGUMENT', `REDIS_URL database "${url.pathname.slice(1)}" is not a number`);
  const prefix = env['CHURN_QUEUE_PREFIX'] ?? 'churn';
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new ChurnError('INVALID_ARGUMENT', `CHURN_QUEUE_PREFIX "${prefix}" may only hold letters, digits, _, . and -`);
  return {
    prefix,
    connection: {
      host: url.hostname,
      port: url.port ? Number(url.port) : 6379,
      db,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      // Reconnect with a capped backoff after an outage or a Redis restart.
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
    },
  };
}
