import { Queue } from 'bullmq';
import { defaultJobOptions } from './job-options';
import type { RunRequest } from './job-payloads';
import { jobIds, QUEUES } from './queue-names';
import type { QueueConnection } from './redis-connection';

/** Where a run stands, from its plan and commit jobs. */
export interface RunStatus {
  runId: string;
  /** queued: not planned yet; running: shards in flight; committed; failed. */
  state: 'unknown' | 'queued' | 'running' | 'committed' | 'failed';
  /** The commit job's result (the run summary) once committed. */
  result?: Record<string, unknown>;
  /** Why the plan or commit failed. */
  reason?: string;
}

/**
 * Adds a run request. Its job id is derived from the run id, so enqueueing an existing run
 * (at the same moment or later, while the job is retained) adds nothing.
 * Returns whether a new job was added.
 */
export async function enqueueRun(conn: QueueConnection, request: RunRequest, options: { priority?: number } = {}): Promise<boolean> {
  const queue = new Queue(QUEUES.runs, { connection: conn.connection, prefix: conn.prefix });
  try {
    const jobId = jobIds.plan(request.runId);
    const existing = await queue.getJob(jobId);
    if (existing) return false;
    await queue.add('plan', request, { ...defaultJobOptions(), jobId, ...(options.priority ? { priority: options.priority } : {}) });
    return true;
  } finally {
    await queue.close();
  }
}

export async function runStatus(conn: QueueConnection, runId: string): Promise<RunStatus> {
  const runs = new Queue(QUEUES.runs, { connection: conn.connection, prefix: conn.prefix });
  const commits = new Queue(QUEUES.commits, { connection: conn.connection, prefix: conn.prefix });
  try {
    const commit = await commits.getJob(jobIds.commit(runId));
    if (commit) {
      const state = await commit.getState();
      if (state === 'completed') return { runId, state: 'committed', result: commit.returnvalue as Record<string, unknown> };
      if (state === 'failed') return { runId, state: 'failed', reason: commit.failedReason };
      return { runId, state: 'running' };
    }
    const plan = await runs.getJob(jobIds.plan(runId));
    if (!plan) return { runId, state: 'unknown' };
    const state = await plan.getState();
    if (state === 'failed') return { runId, state: 'failed', reason: plan.failedReason };
    return { runId, state: state === 'completed' ? 'running' : 'queued' };
  } finally {
    await Promise.all([runs.close(), commits.close()]);
  }
}

/** Polls until the run is committed or failed (or the timeout passes: state as last seen). */
export async function waitForRun(conn: QueueConnection, runId: string, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<RunStatus> {
  const deadline = Date.now() + (options.timeoutMs ?? 24 * 3600_000);
  for (;;) {
    const status = await runStatus(conn, runId);
    if (status.state === 'committed' || status.state === 'failed' || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
