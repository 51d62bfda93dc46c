import type { Job } from 'bullmq';
import { z } from 'zod';
import { serializedErrorSchema, type SerializedError } from '@churn/errors';
import { runSummarySchema } from '@churn/scoring';
import { shardOutcomeSchema } from '@churn/warehouse';
import { commitJobSchema, jobProgressSchema, planJobSchema, type PlanJob } from './job-payloads';
import { closeClients, connectQueues, queueError } from './queue-connect';
import { jobIds, QUEUES } from './queue-names';
import type { QueueConnection } from './redis-connection';
import { readRunRecord, recentRuns, withRedis } from './run-registry';

export const RUN_STATES = ['unknown', 'queued', 'running', 'committed', 'failed'] as const;

/** Where a run's current attempt stands; what `churn status` prints. */
export const runStatusSchema = z
  .object({
    runId: z.string(),
    attempt: z.number().int().min(0),
    state: z.enum(RUN_STATES),
    /** Where a failed run failed. */
    stage: z.enum(['planning', 'scoring', 'commit']).optional(),
    summary: runSummarySchema.optional(),
    /** Why it failed: the code, message and details, as data. */
    error: serializedErrorSchema.optional(),
    failedShards: z.array(z.object({ index: z.number().int(), file: z.string(), error: serializedErrorSchema }).strict()).optional(),
    progress: z
      .object({
        shardsDone: z.number().int(),
        shardsTotal: z.number().int(),
        rowsDone: z.number().int(),
        rowsTotal: z.number().int(),
        rowsScored: z.number().int(),
        rowsQuarantined: z.number().int(),
        rowsIneligible: z.number().int(),
        rowsPerSecond: z.number(),
        etaSeconds: z.number().nullable(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type RunStatus = z.infer<typeof runStatusSchema>;

/** The failure a job recorded in its progress, or one built from BullMQ's reason text. */
function failureOf(job: Job): SerializedError {
  const progress = jobProgressSchema.safeParse(job.progress);
  if (progress.success && progress.data.failure) return progress.data.failure;
  return { code: 'INTERNAL', message: job.failedReason || 'failed without a reason', details: {}, settings: [] };
}

async function queues(conn: QueueConnection) {
  const [runs, commits, shards] = await connectQueues(conn, [QUEUES.runs, QUEUES.commits, QUEUES.shards]);
  return { runs, commits, shards, close: () => closeClients(runs, commits, shards) };
}

type Queues = Awaited<ReturnType<typeof queues>>;

/** The plan job of an attempt, parsed (its request is what resume re-plans). */
export async function planJobOf(conn: QueueConnection, runId: string, attempt: number): Promise<PlanJob | undefined> {
  const q = await queues(conn);
  try {
    const job = await q.runs.getJob(jobIds.plan(runId, attempt));
    const parsed = job ? planJobSchema.safeParse(job.data) : undefined;
    return parsed?.success ? parsed.data : undefined;
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    await q.close();
  }
}

async function attemptStatus(q: Queues, runId: string, attempt: number): Promise<RunStatus> {
  // The state is read before the job: a job read first and found completed a moment later has no
  // return value (the summary) and no failure reason yet; completion writes both with the state.
  const commitId = jobIds.commit(runId, attempt);
  const state = await q.commits.getJobState(commitId);
  const commit = state === 'unknown' ? undefined : await q.commits.getJob(commitId);
  if (commit) {
    if (state === 'completed') {
      const summary = runSummarySchema.safeParse(commit.returnvalue);
      return { runId, attempt, state: 'committed', ...(summary.success ? { summary: summary.data } : {}) };
    }
    const data = commitJobSchema.safeParse(commit.data);
    if (state === 'failed') {
      const failedShards: NonNullable<RunStatus['failedShards']> = [];
      if (data.success) {
        for (const spec of data.data.plan.shards) {
          const shardId = jobIds.shard(runId, attempt, spec.index);
          if ((await q.shards.getJobState(shardId)) !== 'failed') continue;
          const job = await q.shards.getJob(shardId);
          if (job) failedShards.push({ index: spec.index, file: spec.file, error: failureOf(job) });
        }
      }
      const error = failedShards[0]?.error ?? failureOf(commit);
      return { runId, attempt, state: 'failed', stage: failedShards.length > 0 ? 'scoring' : 'commit', error, failedShards };
    }
    return { runId, attempt, state: 'running', ...(data.success ? { progress: await progressOf(q, commit, data.data) } : {}) };
  }
  const planId = jobIds.plan(runId, attempt);
  const planState = await q.runs.getJobState(planId);
  const plan = planState === 'unknown' ? undefined : await q.runs.getJob(planId);
  if (!plan) return { runId, attempt, state: 'unknown' };
  if (planState === 'failed') return { runId, attempt, state: 'failed', stage: 'planning', error: failureOf(plan) };
  return { runId, attempt, state: planState === 'completed' ? 'running' : 'queued' };
}

/** Shards done, rows so far (finished shards and the rows in flight), rate and ETA. */
async function progressOf(q: Queues, commit: Job, data: z.output<typeof commitJobSchema>): Promise<NonNullable<RunStatus['progress']>> {
  const children = Object.values(await commit.getChildrenValues()).flatMap((v) => {
    const parsed = shardOutcomeSchema.safeParse(v);
    return parsed.success ? [parsed.data] : [];
  });
  const done = [...data.priorOutcomes, ...children];
  const sum = (key: 'rowsRead' | 'rowsScored' | 'rowsQuarantined' | 'rowsIneligible') => done.reduce((a, o) => a + o[key], 0);
  let inFlight = 0;
  for (const job of await q.shards.getActive()) {
    if (!String(job.id).startsWith(`shard__${data.plan.runId}__a${data.attempt}__`)) continue;
    const progress = jobProgressSchema.safeParse(job.progress);
    if (progress.success) inFlight += progress.data.rowsDone;
  }
  const rowsDone = sum('rowsRead') + inFlight;
  const rowsTotal = data.plan.shards.reduce((a, s) => a + s.rows, 0);
  const seconds = Math.max((Date.now() - Date.parse(data.startedAt)) / 1000, 1e-3);
  const rowsPerSecond = Math.round((rowsDone - data.priorOutcomes.reduce((a, o) => a + o.rowsRead, 0)) / seconds);
  return {
    shardsDone: done.length,
    shardsTotal: data.plan.shards.length,
    rowsDone,
    rowsTotal,
    rowsScored: sum('rowsScored'),
    rowsQuarantined: sum('rowsQuarantined'),
    rowsIneligible: sum('rowsIneligible'),
    rowsPerSecond,
    etaSeconds: rowsPerSecond > 0 ? Math.round((rowsTotal - rowsDone) / rowsPerSecond) : null,
  };
}

/** The status of a run's current attempt (or of a given attempt). */
export async function runStatus(conn: QueueConnection, runId: string, attempt?: number): Promise<RunStatus> {
  const current = attempt ?? (await withRedis(conn, (redis) => readRunRecord(redis, conn, runId)))?.attempt;
  if (current === undefined) return { runId, attempt: 0, state: 'unknown' };
  const q = await queues(conn);
  try {
    return await attemptStatus(q, runId, current);
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    await q.close();
  }
}

/** The most recently requested runs, newest first, with their status. */
export async function listRuns(conn: QueueConnection, limit = 20): Promise<RunStatus[]> {
  const runs = await withRedis(conn, (redis) => recentRuns(redis, conn, limit));
  const q = await queues(conn);
  try {
    const out: RunStatus[] = [];
    for (const { runId, record } of runs) out.push(await attemptStatus(q, runId, record.attempt));
    return out;
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    await q.close();
  }
}

/** Polls until that attempt is committed or failed (or the timeout passes: state as last seen). */
export async function waitForRun(conn: QueueConnection, runId: string, attempt: number, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<RunStatus> {
  const deadline = Date.now() + (options.timeoutMs ?? 24 * 3600_000);
  for (;;) {
    const status = await runStatus(conn, runId, attempt);
    if (status.state === 'committed' || status.state === 'failed' || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
