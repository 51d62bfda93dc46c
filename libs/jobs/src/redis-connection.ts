import type { RedisOptions } from 'ioredis';
import { ChurnError } from '@churn/errors';

/**
 * Default bound on reaching Redis before a command gives up (`CHURN_CONNECT_TIMEOUT_MS`): long
 * enough for a Redis restart (reconnects are retried within it), short enough that a command
 * started on a loaded host (2-3 s just to load the worker) still fails well within 15 s.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Where the queues live: a Redis connection and the key prefix all queue keys share. */
export interface QueueConnection {
  connection: RedisOptions;
  prefix: string;
  /** How long connecting may take before QUEUE_UNAVAILABLE (default DEFAULT_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
}

/**
 * A Redis URL safe to print: the password (everything between `scheme://user:` and the last `@`,
 * or the whole user part when it has no `:`) becomes `***`. Works on malformed URLs too, which is
 * when they get echoed back.
 */
export function redactRedisUrl(raw: string): string {
  const at = raw.lastIndexOf('@');
  if (at < 0) return raw;
  const scheme = raw.indexOf('://');
  const start = scheme >= 0 && scheme < at ? scheme + 3 : 0;
  const userinfo = raw.slice(start, at);
  const colon = userinfo.indexOf(':');
  return `${raw.slice(0, start)}${colon > 0 ? `${userinfo.slice(0, colon)}:` : ''}***@${raw.slice(at + 1)}`;
}

/** The Redis server of a connection for messages and logs: scheme, host and port, never credentials. */
export function describeRedis(conn: QueueConnection): string {
  const { host = '127.0.0.1', port = 6379, tls } = conn.connection;
  return tls ? `rediss://${host}:${port} (TLS)` : `redis://${host}:${port}`;
}

/** Structured details of a connection for errors: no credentials. */
export function redisDetails(conn: QueueConnection): Record<string, unknown> {
  const { host = '127.0.0.1', port = 6379, tls, db = 0 } = conn.connection;
  return { host, port, db, tls: Boolean(tls) };
}

/** Replaces the connection's password, wherever it appears in `text`, with `***`. */
export function redactSecrets(text: string, conn: QueueConnection): string {
  const password = conn.connection.password;
  if (!password) return text;
  return [password, encodeURIComponent(password)].reduce((out, secret) => out.split(secret).join('***'), text);
}

/** A positive whole number of milliseconds from the environment, or the default when unset. */
export function durationFromEnv(env: NodeJS.ProcessEnv, name: string, defaultMs: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return defaultMs;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0) throw new ChurnError('INVALID_ARGUMENT', `${name} must be a positive number of milliseconds, got "${raw}"`, { details: { variable: name } });
  return ms;
}

/**
 * Connection settings from `REDIS_URL` (`redis://[user:password@]host:port[/db]`, or `rediss://`
 * for TLS), `CHURN_QUEUE_PREFIX` (default `churn`) and `CHURN_CONNECT_TIMEOUT_MS`. BullMQ workers
 * need `maxRetriesPerRequest: null`, so once connected a Redis outage blocks and reconnects
 * instead of failing jobs; short-lived clients get fail-fast options from queue-connect.ts.
 * Errors never echo the password.
 */
export function queueConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): QueueConnection {
  const raw = env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const shown = redactRedisUrl(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // No cause: the URL parser's error repeats the input, password included.
    throw new ChurnError('INVALID_ARGUMENT', `REDIS_URL "${shown}" is not a URL; use redis://host:port or rediss://user:password@host:port/db (percent-encode special characters in the password)`, { details: { variable: 'REDIS_URL' } });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ChurnError('INVALID_ARGUMENT', `REDIS_URL must start with redis:// or rediss://, got "${url.protocol}//"`, { details: { variable: 'REDIS_URL' } });
  }
  if (!url.hostname) throw new ChurnError('INVALID_ARGUMENT', `REDIS_URL "${shown}" names no host`, { details: { variable: 'REDIS_URL' } });
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new ChurnError('INVALID_ARGUMENT', `REDIS_URL database "${url.pathname.slice(1)}" is not a number`, { details: { variable: 'REDIS_URL' } });
  const prefix = env['CHURN_QUEUE_PREFIX'] ?? 'churn';
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new ChurnError('INVALID_ARGUMENT', `CHURN_QUEUE_PREFIX "${prefix}" may only hold letters, digits, _, . and -`);
  return {
    prefix,
    connectTimeoutMs: durationFromEnv(env, 'CHURN_CONNECT_TIMEOUT_MS', DEFAULT_CONNECT_TIMEOUT_MS),
    connection: {
      host: url.hostname,
      port: url.port ? Number(url.port) : 6379,
      db,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      // A socket still open 0.2 s after a disconnect is destroyed (ioredis waits 2 s by default,
      // which a refused connection always pays, on top of the connect bound).
      disconnectTimeout: 200,
      // Reconnect with a capped backoff after an outage or a Redis restart.
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
    },
  };
}
