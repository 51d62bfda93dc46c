import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalObjectStore } from '@churn/object-store';
import { churnErrorOf } from '@churn/testing';
import { acquireLease, releaseLeaseOf } from './partition-lease';

describe('partition lease', () => {
  const store = new LocalObjectStore();
  let dir: string;
  let uri: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-lease-'));
    uri = pathToFileURL(path.join(dir, 'as_of=2024-06-01', 'model=m-1', '_lease.json')).href;
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('lets one run hold a partition: a second run fails fast, naming the holder', async () => {
    const lease = await acquireLease(store, uri, { runId: 'run-a', attempt: 1, timeoutMs: 60_000 });
    expect(lease.record).toMatchObject({ runId: 'run-a', attempt: 1, host: os.hostname(), pid: process.pid, timeoutMs: 60_000 });
    const error = await churnErrorOf(acquireLease(store, uri, { runId: 'run-b', attempt: 1, timeoutMs: 60_000 }));
    expect(error.code).toBe('PARTITION_LOCKED');
    expect(error.message).toMatch(new RegExp(`being written by run run-a \\(attempt 1, host ${os.hostname()}, pid ${process.pid}, last heartbeat \\d+s ago\\)`));
    await lease.release();
    await expect(acquireLease(store, uri, { runId: 'run-b', attempt: 1 })).resolves.toBeDefined();
  });

  it('lets the same run take it again (a new attempt, or a retried commit)', async () => {
    await acquireLease(store, uri, { runId: 'run-a', attempt: 1 });
    const again = await acquireLease(store, uri, { runId: 'run-a', attempt: 2 });
    expect(again.record.attempt).toBe(2);
    await again.assertHeld();
  });

  it('breaks a stale lease, and logs it', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    await acquireLease(store, uri, { runId: 'dead-run', attempt: 1, timeoutMs: 1000, now: () => now });
    now = new Date(now.getTime() + 5000);
    const log: string[] = [];
    const lease = await acquireLease(store, uri, { runId: 'run-b', attempt: 1, timeoutMs: 1000, now: () => now, log: (m) => log.push(m) });
    expect(lease.record.runId).toBe('run-b');
    expect(log).toEqual([expect.stringMatching(/^breaking the stale lease of .*: run dead-run \(attempt 1, .* last heartbeat 5s ago\), older than its timeout$/)]);
  });

  it('renews with a heartbeat, and a run that lost its lease learns it', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const mine = await acquireLease(store, uri, { runId: 'run-a', attempt: 1, timeoutMs: 1000, now: () => now });
    now = new Date(now.getTime() + 500);
    await mine.renew();
    expect(JSON.parse(await fs.readFile(new URL(uri), 'utf8'))).toMatchObject({ heartbeatAt: now.toISOString() });
    now = new Date(now.getTime() + 5000);
    await acquireLease(store, uri, { runId: 'run-b', attempt: 1, timeoutMs: 1000, now: () => now });
    const lost = await churnErrorOf(mine.renew());
    expect(lost.code).toBe('PARTITION_LOCKED');
    expect(lost.message).toMatch(/run run-a lost the lease .* to run run-b/);
    await mine.release();
    expect(JSON.parse(await fs.readFile(new URL(uri), 'utf8'))).toMatchObject({ runId: 'run-b' });
  });

  it('is released by another process only for the attempt that holds it', async () => {
    await acquireLease(store, uri, { runId: 'run-a', attempt: 2 });
    expect(await releaseLeaseOf(store, uri, 'run-a', 1)).toBe(false);
    expect(await releaseLeaseOf(store, uri, 'run-b', 2)).toBe(false);
    expect(await releaseLeaseOf(store, uri, 'run-a', 2)).toBe(true);
    await expect(fs.stat(new URL(uri))).rejects.toThrow();
  });
});
