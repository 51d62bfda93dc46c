import { FlowProducer, Queue, type QueueOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { ChurnError } from '@churn/errors';
import { DEFAULT_CONNECT_TIMEOUT_MS, describeRedis, durationFromEnv, redactSecrets, redisDetails, type QueueConnection } from './redis-connection';

/** Longest a short-lived client waits for one reply once connected (`CHURN_COMMAND_TIMEOUT_MS`). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/** How long closing a client may take before its socket is dropped instead. */
const CLOSE_BOUND_MS = 2_000;

/** Anything BullMQ that connects: Queue, FlowProducer, Worker. */
export interface RedisClientLike {
  waitUntilReady(): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

interface Closable {
  close(): Promise<void>;
  disconnect(): Promise<void>;
}

const timeoutOf = (conn: QueueConnection) => conn.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;

/** Resolves with `true` when `promise` settles within `ms`, `false` otherwise (rejections count as settled). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

const CONNECTION_ERROR = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|Connection is closed|Stream isn't writeable|Command timed out|max retries per request/i;

/**
 * `QUEUE_UNAVAILABLE` for an error that means Redis went away (refused, reset, closed, timed
 * out); any other error as it is. Client functions rethrow through this so a lost connection is a
 * clear, retryable error naming the server instead of an ioredis internal.
 */
export function queueError(conn: QueueConnection, error: unknown): unknown {
  if (error instanceof ChurnError || !(error instanceof Error)) return error;
  if (!CONNECTION_ERROR.test(`${error.name} ${error.message} ${(error as { code?: unknown }).code ?? ''}`)) return error;
  return new ChurnError('QUEUE_UNAVAILABLE', `lost the connection to Redis at ${describeRedis(conn)}: ${redactSecrets(error.message, conn)}`, {
    cause: error,
    details: redisDetails(conn),
  });
}

/**
 * Options for a short-lived client (CLI commands, the producer's setup): commands fail at once
 * while disconnected instead of queueing (no offline queue, one retry), a reply that never comes
 * times out, and reconnecting stops once the connect bound has passed, so a dead Redis can
 * neither block a command nor keep the process alive.
 */
export function clientConnectionOptions(conn: QueueConnection, env: NodeJS.ProcessEnv = process.env): RedisOptions {
  const timeoutMs = timeoutOf(conn);
  const giveUpAt = Date.now() + timeoutMs;
  return {
    ...conn.connection,
    connectTimeout: timeoutMs,
    commandTimeout: durationFromEnv(env, 'CHURN_COMMAND_TIMEOUT_MS', DEFAULT_COMMAND_TIMEOUT_MS),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => (Date.now() >= giveUpAt ? null : Math.min(100 * 2 ** Math.min(times, 4), 1000)),
  };
}

/**
 * Waits until `client` is connected, at most the connection's timeout. Otherwise calls `abort`
 * (which must drop the client's sockets: `close()` for a Queue, `close(true)` for a Worker),
 * within a bound of its own, and throws `QUEUE_UNAVAILABLE` naming host and port (never the
 * password) and the last connection error. Used at start by every process and command.
 */
export async function readyWithin<T extends RedisClientLike>(conn: QueueConnection, client: T, what: string, abort: (client: T) => Promise<unknown>): Promise<T> {
  const timeoutMs = timeoutOf(conn);
  let lastError: Error | undefined;
  const onError = (error: Error) => (lastError = error);
  client.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs)));
    await Promise.race([client.waitUntilReady(), expired]);
    return client;
  } catch (error) {
    await settlesWithin(abort(client), CLOSE_BOUND_MS);
    const reason = lastError ?? (error instanceof Error ? error : new Error(String(error)));
    throw new ChurnError('QUEUE_UNAVAILABLE', `Redis at ${describeRedis(conn)} is not reachable (${what}, waited up to ${timeoutMs} ms): ${redactSecrets(reason.message, conn)}`, {
      cause: reason,
      details: { ...redisDetails(conn), timeoutMs, client: what },
    });
  } finally {
    clearTimeout(timer);
    client.off('error', onError);
  }
}

/** Keeps a short-lived client's connection errors from reaching the console: they surface as rejected commands. */
function quiet<T extends RedisClientLike>(client: T): T {
  client.on('error', () => undefined);
  return client;
}

/** A Queue for short-lived use, connected within the connection's bound (QUEUE_UNAVAILABLE otherwise). */
export function connectQueue(conn: QueueConnection, name: string, options: Pick<QueueOptions, 'streams'> = {}): Promise<Queue> {
  const queue = quiet(new Queue(name, { ...options, connection: clientConnectionOptions(conn), prefix: conn.prefix }));
  return readyWithin(conn, queue, `queue ${name}`, (q) => q.close());
}

/** Several queues at once; when one cannot connect, the others are closed before the error is thrown. */
export async function connectQueues<const N extends readonly string[]>(conn: QueueConnection, names: N): Promise<{ [K in keyof N]: Queue }> {
  const settled = await Promise.allSettled(names.map((name) => connectQueue(conn, name)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await closeClients(...settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])));
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<Queue>).value) as { [K in keyof N]: Queue };
}

/** A FlowProducer for short-lived use, connected within the connection's bound. */
export function connectFlowProducer(conn: QueueConnection): Promise<FlowProducer> {
  const flows = quiet(new FlowProducer({ connection: clientConnectionOptions(conn), prefix: conn.prefix }));
  return readyWithin(conn, flows, 'flow producer', (f) => f.close());
}

/** A plain ioredis client for short-lived use (registry reads, claims), connected within the connection's bound. */
export async function connectRedis(conn: QueueConnection): Promise<Redis> {
  const redis = new Redis({ ...clientConnectionOptions(conn), lazyConnect: true });
  redis.on('error', () => undefined);
  const connecting = redis.connect();
  const client: RedisClientLike = { waitUntilReady: () => connecting, on: (e, l) => redis.on(e, l), off: (e, l) => redis.off(e, l) };
  await readyWithin(conn, client, 'registry client', async () => redis.disconnect());
  return redis;
}

/** Closes clients, each within a bound; one whose close does not finish has its socket dropped. */
export async function closeClients(...clients: Closable[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      if (!(await settlesWithin(client.close(), CLOSE_BOUND_MS))) await settlesWithin(client.disconnect(), CLOSE_BOUND_MS);
    }),
  );
}

/** What `watchRedis` reads: a BullMQ client's ioredis connection and its events. */
export interface WatchedClient {
  readonly client: Promise<{ status: string }>;
  on(event: 'ready' | 'ioredis:close' | 'error', listener: (...args: unknown[]) => void): unknown;
}

/**
 * Calls `onChange(connected)` whenever the client's Redis connection comes up or goes down:
 * on BullMQ's events, and on a poll of the ioredis status (events alone miss a half-open socket
 * that ioredis later gives up on). Returns a function that stops watching.
 */
export function watchRedis(watched: WatchedClient, onChange: (connected: boolean) => void, pollMs = 1000): () => void {
  let last: boolean | undefined;
  const report = (connected: boolean) => {
    if (connected !== last) onChange((last = connected));
  };
  const check = () =>
    void watched.client.then(
      (c) => report(c.status === 'ready'),
      () => report(false),
    );
  watched.on('ready', check);
  watched.on('ioredis:close', () => report(false));
  watched.on('error', check);
  const timer = setInterval(check, pollMs);
  timer.unref();
  check();
  return () => clearInterval(timer);
}
