import type { Redis } from 'ioredis';
import { z } from 'zod';
import { connectRedis, queueError } from './queue-connect';
import type { QueueConnection } from './redis-connection';

/**
 * The attempts of each run, one small Redis key per run id: which attempt is current and when it
 * was claimed. Claims are atomic (SET NX for the first attempt, compare-and-set for the next),
 * so two commands requesting the same run at once add one attempt.
 */
const recordSchema = z.object({ attempt: z.number().int().min(1), claimedAt: z.string() }).strict();
export type RunRecord = z.infer<typeof recordSchema>;

/** Records live as long as failed jobs do (30 days), refreshed by every new attempt. */
const RECORD_TTL_SECONDS = 30 * 24 * 3600;

const ADVANCE = `
local current = redis.call('GET', KEYS[1])
if current == false then return 0 end
local ok, record = pcall(cjson.decode, current)
if not ok or record['attempt'] ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

export function runRecordKey(conn: QueueConnection, runId: string): string {
  return `${conn.prefix}:churn-run:${runId}`;
}

/** A short-lived client for registry reads and claims, connected within the connection's bound. */
export async function withRedis<T>(conn: QueueConnection, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = await connectRedis(conn);
  try {
    return await work(redis);
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    redis.disconnect();
  }
}

export async function readRunRecord(redis: Redis, conn: QueueConnection, runId: string): Promise<RunRecord | undefined> {
  const raw = await redis.get(runRecordKey(conn, runId));
  if (raw === null) return undefined;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Claims attempt 1 of a run; false when the run already has a record. */
export async function claimFirstAttempt(redis: Redis, conn: QueueConnection, runId: string): Promise<boolean> {
  const record: RunRecord = { attempt: 1, claimedAt: new Date().toISOString() };
  return (await redis.set(runRecordKey(conn, runId), JSON.stringify(record), 'EX', RECORD_TTL_SECONDS, 'NX')) === 'OK';
}

/** Moves a run from attempt `from` to `from + 1`; false when another command moved it first. */
export async function advanceAttempt(redis: Redis, conn: QueueConnection, runId: string, from: number): Promise<boolean> {
  const next: RunRecord = { attempt: from + 1, claimedAt: new Date().toISOString() };
  return (await redis.eval(ADVANCE, 1, runRecordKey(conn, runId), String(from), JSON.stringify(next), String(RECORD_TTL_SECONDS))) === 1;
}

/** The most recently claimed runs, newest first. */
export async function recentRuns(redis: Redis, conn: QueueConnection, limit: number): Promise<{ runId: string; record: RunRecord }[]> {
  const prefix = runRecordKey(conn, '');
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const runs: { runId: string; record: RunRecord }[] = [];
  for (const key of keys) {
    const runId = key.slice(prefix.length);
    const record = await readRunRecord(redis, conn, runId);
    if (record) runs.push({ runId, record });
  }
  return runs.sort((a, b) => (a.record.claimedAt < b.record.claimedAt ? 1 : -1)).slice(0, limit);
}
