import { hostname } from 'node:os';
import { z } from 'zod';
import { ChurnError, isChurnError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';

/**
 * One writer per partition: a lease object (`<partition>/_lease.json`) created with an
 * exclusive create (local `link`, S3 `If-None-Match: *`) before a run's first staged write,
 * renewed by a heartbeat, released at commit or failure. A lease whose heartbeat is older than
 * its timeout is stale and may be broken (logged).
 */
export const leaseRecordSchema = z
  .object({
    formatVersion: z.literal(1),
    /** The run holding the partition. */
    runId: z.string(),
    attempt: z.number().int().min(1),
    host: z.string(),
    pid: z.number().int(),
    acquiredAt: z.string(),
    heartbeatAt: z.string(),
    timeoutMs: z.number().int().positive(),
  })
  .strict();
export type LeaseRecord = z.infer<typeof leaseRecordSchema>;

/** Default lease timeout: `CHURN_LEASE_TIMEOUT_MS`, else 5 minutes. */
export function defaultLeaseTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['CHURN_LEASE_TIMEOUT_MS'];
  const value = raw === undefined ? 300_000 : Number(raw);
  if (!Number.isInteger(value) || value < 100) throw new ChurnError('INVALID_ARGUMENT', `CHURN_LEASE_TIMEOUT_MS must be an integer of at least 100 (milliseconds), got "${raw}"`);
  return value;
}

export interface LeaseOptions {
  runId: string;
  attempt: number;
  timeoutMs?: number;
  log?: (message: string) => void;
  now?: () => Date;
}

export interface PartitionLease {
  readonly uri: string;
  readonly record: LeaseRecord;
  /** Writes a fresh heartbeat; fails with PARTITION_LOCKED when another run took the lease. */
  renew(): Promise<void>;
  /** Fails with PARTITION_LOCKED unless this run still holds the lease. */
  assertHeld(): Promise<void>;
  /** Removes the lease if this run still holds it. */
  release(): Promise<void>;
}

async function readLease(store: ObjectStore, uri: string): Promise<{ record?: LeaseRecord; lastModified?: Date } | undefined> {
  const head = await store.head(uri);
  if (!head) return undefined;
  let text: string;
  try {
    text = new TextDecoder().decode(await store.get(uri));
  } catch (cause) {
    if (isChurnError(cause, 'INPUT_NOT_FOUND')) return undefined;
    throw cause;
  }
  try {
    const parsed = leaseRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? { record: parsed.data, ...(head.lastModified ? { lastModified: head.lastModified } : {}) } : { ...(head.lastModified ? { lastModified: head.lastModified } : {}) };
  } catch {
    return head.lastModified ? { lastModified: head.lastModified } : {};
  }
}

function describeHolder(record: LeaseRecord, now: Date): string {
  const age = Math.round((now.getTime() - Date.parse(record.heartbeatAt)) / 1000);
  return `run ${record.runId} (attempt ${record.attempt}, host ${record.host}, pid ${record.pid}, last heartbeat ${age}s ago)`;
}

/**
 * Takes the partition's lease for a run. The same run may take it again (a new attempt, or a
 * retried commit); another run's fresh lease refuses with PARTITION_LOCKED naming the holder;
 * a stale one is broken, and that is logged.
 */
export async function acquireLease(store: ObjectStore, uri: string, options: LeaseOptions): Promise<PartitionLease> {
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? defaultLeaseTimeoutMs();
  const fresh = (): LeaseRecord => {
    const at = now().toISOString();
    return { formatVersion: 1, runId: options.runId, attempt: options.attempt, host: hostname(), pid: process.pid, acquiredAt: at, heartbeatAt: at, timeoutMs };
  };
  let record = fresh();
  const body = () => `${JSON.stringify(record, null, 2)}\n`;
  if (!(await store.putIfAbsent(uri, body(), { contentType: 'application/json' }))) {
    const existing = await readLease(store, uri);
    const current = existing?.record;
    const heartbeat = current ? Date.parse(current.heartbeatAt) : (existing?.lastModified?.getTime() ?? 0);
    const stale = now().getTime() - heartbeat > (current?.timeoutMs ?? timeoutMs);
    if (current && current.runId === options.runId) {
      record = { ...record, acquiredAt: current.acquiredAt };
      await store.put(uri, body(), { contentType: 'application/json' });
    } else if (existing === undefined || stale) {
      if (existing) {
        options.log?.(`breaking the stale lease of ${uri}: ${current ? describeHolder(current, now()) : 'an unreadable lease record'}, older than its timeout`);
        await store.delete(uri);
      }
      if (!(await store.putIfAbsent(uri, body(), { contentType: 'application/json' }))) {
        const winner = (await readLease(store, uri))?.record;
        throw new ChurnError('PARTITION_LOCKED', `${uri} was taken by ${winner ? describeHolder(winner, now()) : 'another run'} while this run broke a stale lease; run again later`, {
          details: { uri, holder: winner ?? null },
        });
      }
    } else {
      throw new ChurnError(
        'PARTITION_LOCKED',
        `the partition is being written by ${current ? describeHolder(current, now()) : 'another run (unreadable lease)'}; wait for it to finish, or, if that run is dead, the lease expires ${Math.round((current?.timeoutMs ?? timeoutMs) / 1000)}s after its last heartbeat (${uri})`,
        { details: { uri, holder: current ?? null } },
      );
    }
  }

  const held = async (): Promise<LeaseRecord | undefined> => (await readLease(store, uri))?.record;
  const assertHeld = async () => {
    const current = await held();
    if (!current || current.runId !== record.runId || current.attempt !== record.attempt) {
      throw new ChurnError('PARTITION_LOCKED', `run ${record.runId} lost the lease of ${uri}${current ? ` to ${describeHolder(current, now())}` : ' (it was removed)'}; nothing was published`, {
        details: { uri, holder: current ?? null },
      });
    }
  };
  return {
    uri,
    get record() {
      return record;
    },
    async renew() {
      await assertHeld();
      record = { ...record, heartbeatAt: now().toISOString() };
      await store.put(uri, body(), { contentType: 'application/json' });
    },
    assertHeld,
    async release() {
      const current = await held();
      if (current && current.runId === record.runId && current.attempt === record.attempt) await store.delete(uri);
    },
  };
}

/** Removes a lease if that run attempt holds it (a failed run, cleaned up by another process). */
export async function releaseLeaseOf(store: ObjectStore, uri: string, runId: string, attempt: number): Promise<boolean> {
  const current = (await readLease(store, uri))?.record;
  if (!current || current.runId !== runId || current.attempt !== attempt) return false;
  await store.delete(uri);
  return true;
}

/**
 * Renews the lease of a run held elsewhere (the producer keeps distributed runs' leases fresh):
 * only when that run holds it, any attempt (a resumed attempt takes the lease over). Returns
 * whether it renewed; never takes a lease the run does not hold.
 */
export async function renewLeaseOf(store: ObjectStore, uri: string, runId: string, attempt: number, now: Date = new Date()): Promise<boolean> {
  const current = (await readLease(store, uri))?.record;
  if (!current || current.runId !== runId) return false;
  const record: LeaseRecord = { ...current, attempt: Math.max(attempt, current.attempt), heartbeatAt: now.toISOString() };
  await store.put(uri, `${JSON.stringify(record, null, 2)}\n`, { contentType: 'application/json' });
  return true;
}

/** Renews a lease every `intervalMs` until stopped; `onLost` hears a failed renewal. */
export function startHeartbeat(lease: PartitionLease, intervalMs: number, onLost: (error: unknown) => void): { stop(): void } {
  let stopped = false;
  const timer = setInterval(() => {
    lease.renew().catch((error: unknown) => {
      if (!stopped) onLost(error);
    });
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
