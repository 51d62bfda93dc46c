import { ChurnError } from '@churn/errors';
import { durationFromEnv } from './redis-connection';

/**
 * How a shard job held by a worker that vanished (killed, its host or its network gone) gets
 * back to the queue: BullMQ's lock on an active job lasts `lockDuration` and the worker renews
 * it every `lockDuration / 2`; every `stalledInterval` some live worker's stall check moves an
 * active job whose lock is gone (and that no renewal touched since the previous check) back to
 * wait, and another worker takes it. A job that stalls more than `maxStalledCount` times fails.
 *
 * So a shard is back in the queue at most `lockDuration + stalledInterval` after its worker
 * lost Redis: 20 s with these defaults (the bound is 30 s, the rest is the margin for a
 * survivor to pick it up). Shorter is not free: a worker cut from Redis for longer than
 * `lockDuration` (a Redis failover, a long GC pause) loses its shard to another worker, which
 * scores it again; that is safe (staged parts are written atomically with the same content,
 * the first worker's completion is refused for the lost lock, the commit counts each shard
 * once) but costs the work twice. Scoring runs in worker threads, so lock renewal never waits
 * on a shard.
 */
export const DEFAULT_LOCK_DURATION_MS = 15_000;
export const DEFAULT_STALLED_INTERVAL_MS = 5_000;
export const DEFAULT_MAX_STALLED_COUNT = 2;

export interface ShardLockSettings {
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
}

/**
 * The shard workers' lock settings: `CHURN_LOCK_DURATION_MS`, `CHURN_STALLED_INTERVAL_MS`,
 * `CHURN_MAX_STALLED_COUNT`, each with the default above. A stall check slower than the lock
 * would let a vanished worker's shard wait longer than it must, so it is refused.
 */
export function shardLockSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ShardLockSettings {
  const lockDuration = durationFromEnv(env, 'CHURN_LOCK_DURATION_MS', DEFAULT_LOCK_DURATION_MS);
  const stalledInterval = durationFromEnv(env, 'CHURN_STALLED_INTERVAL_MS', DEFAULT_STALLED_INTERVAL_MS);
  const raw = env['CHURN_MAX_STALLED_COUNT'];
  const maxStalledCount = raw === undefined || raw === '' ? DEFAULT_MAX_STALLED_COUNT : Number(raw);
  if (!Number.isInteger(maxStalledCount) || maxStalledCount < 0) {
    throw new ChurnError('INVALID_ARGUMENT', `CHURN_MAX_STALLED_COUNT must be a whole number of at least 0, got "${raw}"`, { details: { variable: 'CHURN_MAX_STALLED_COUNT' } });
  }
  if (stalledInterval > lockDuration) {
    throw new ChurnError(
      'INVALID_ARGUMENT',
      `CHURN_STALLED_INTERVAL_MS (${stalledInterval}) is longer than CHURN_LOCK_DURATION_MS (${lockDuration}): the stall check would run less often than locks expire; set it to at most the lock duration`,
      { details: { variable: 'CHURN_STALLED_INTERVAL_MS', stalledInterval, lockDuration } },
    );
  }
  return { lockDuration, stalledInterval, maxStalledCount };
}

/** The longest a vanished worker's shard waits before it is back in the queue. */
export function takeoverBoundMs(settings: ShardLockSettings): number {
  return settings.lockDuration + settings.stalledInterval;
}
