import { ChurnError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';
import { identifyRun, sameInput, type IdentifiedRun, type RunRequestInput } from '@churn/scoring';
import { defaultJobOptions } from './job-options';
import { commitJobSchema, type PlanJob } from './job-payloads';
import { closeClients, connectQueue, queueError } from './queue-connect';
import { jobIds, QUEUES } from './queue-names';
import type { QueueConnection } from './redis-connection';
import { advanceAttempt, claimFirstAttempt, readRunRecord, withRedis } from './run-registry';
import { runStatus, type RunStatus } from './run-status';

/** What requesting a run did. */
export interface RunRequestResult {
  runId: string;
  asOf: string;
  attempt: number;
  /** false: that attempt was already queued, running or committed with the same input. */
  enqueued: boolean;
  /** The attempt's state when nothing was enqueued. */
  state?: RunStatus['state'];
}

/** A claim older than this with no jobs is an enqueue that died half-way: a new attempt may start. */
const ORPHAN_CLAIM_MS = 60_000;

/** Adds the plan job of an attempt (its id makes a second add of the same attempt a no-op). */
export async function enqueuePlan(conn: QueueConnection, job: PlanJob, priority?: number): Promise<void> {
  const queue = await connectQueue(conn, QUEUES.runs);
  try {
    await queue.add('plan', job, { ...defaultJobOptions(), jobId: jobIds.plan(job.runId, job.attempt), ...(priority ? { priority } : {}) });
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    await closeClients(queue);
  }
}

/** Whether the committed attempt scored the same input files the request sees now. */
async function committedSameInput(conn: QueueConnection, run: IdentifiedRun, attempt: number): Promise<boolean> {
  const commits = await connectQueue(conn, QUEUES.commits);
  try {
    const job = await commits.getJob(jobIds.commit(run.runId, attempt));
    const data = job ? commitJobSchema.safeParse(job.data) : undefined;
    return Boolean(data?.success && sameInput(data.data.plan.partition.files, run.identity.partition.files));
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    await closeClients(commits);
  }
}

/**
 * Requests a run: resolves and validates it with the same code embedded mode uses (a bad
 * setting is refused before anything reaches Redis), then enqueues its plan job. The run id
 * follows from the request, so the same request twice is one run: while an attempt is queued
 * or running, or committed with the same input files, nothing is added. A failed attempt, or a
 * committed one whose input changed since, gets a new attempt. Used by `churn run`, schedule
 * ticks and backfills.
 */
export async function requestRun(conn: QueueConnection, store: ObjectStore, input: RunRequestInput, options: { priority?: number } = {}): Promise<RunRequestResult> {
  const run = await identifyRun(store, input);
  const { runId } = run;
  const asOf = run.partition.asOf;
  // The plan job carries the resolved date, so a partition that appears meanwhile is not taken.
  const request = { ...run.request, asOf };
  for (let tries = 0; tries < 5; tries++) {
    const claim = await withRedis(conn, async (redis) => {
      if (await claimFirstAttempt(redis, conn, runId)) return { attempt: 1, fresh: true };
      const record = await readRunRecord(redis, conn, runId);
      if (!record) return undefined;
      const status = await runStatus(conn, runId, record.attempt);
      const orphan = status.state === 'unknown' && Date.now() - Date.parse(record.claimedAt) > ORPHAN_CLAIM_MS;
      const inputChanged = status.state === 'committed' && !(await committedSameInput(conn, run, record.attempt));
      if (status.state === 'failed' || orphan || inputChanged) {
        return (await advanceAttempt(redis, conn, runId, record.attempt)) ? { attempt: record.attempt + 1, fresh: true } : undefined;
      }
      return { attempt: record.attempt, fresh: false, state: status.state };
    });
    if (!claim) continue;
    if (!claim.fresh) return { runId, asOf, attempt: claim.attempt, enqueued: false, ...(claim.state ? { state: claim.state } : {}) };
    await enqueuePlan(conn, { runId, attempt: claim.attempt, request, requestedAt: new Date().toISOString() }, options.priority);
    return { runId, asOf, attempt: claim.attempt, enqueued: true };
  }
  throw new ChurnError('QUEUE_UNAVAILABLE', `could not claim an attempt of run ${runId}: other commands keep changing it; try again`, { details: { runId } });
}
