import { FlowProducer, Queue, type Job } from 'bullmq';
import { readParquetFooter } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';
import type { ShardSpec } from '@churn/scoring';
import type { ShardOutcome } from '@churn/warehouse';
import { defaultJobOptions } from './job-options';
import { commitJobSchema, parseJobData, type CommitJob, type RunRequest, type ScheduleTick, type ShardJob } from './job-payloads';
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
  /** For a failed run: its failed shards, with their file and reason. */
  failedShards?: { index: number; file: string; reason: string }[];
  /** For a running run: progress so far. */
  progress?: { shardsDone: number; shardsTotal: number; rowsDone: number; rowsTotal: number; rowsScored: number; rowsQuarantined: number; rowsIneligible: number; rowsPerSecond: number; etaSeconds: number | null };
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

/** Shards done, rows so far, rate and ETA of a running run, from its commit job's children. */
async function progressOf(commit: Job): Promise<NonNullable<RunStatus['progress']>> {
  const data = parseJobData(commitJobSchema, commit.data, commit.id);
  const done = [...(data.priorOutcomes as unknown as ShardOutcome[]), ...(Object.values(await commit.getChildrenValues()) as ShardOutcome[])];
  const sum = (key: 'rowsRead' | 'rowsScored' | 'rowsQuarantined' | 'rowsIneligible') => done.reduce((a, o) => a + (o[key] ?? 0), 0);
  const rowsDone = sum('rowsRead');
  const rowsTotal = data.inputFiles.reduce((a, f) => a + f.rows, 0);
  const seconds = Math.max((Date.now() - Date.parse(data.startedAt)) / 1000, 1e-3);
  const rowsPerSecond = Math.round(rowsDone / seconds);
  return {
    shardsDone: done.length,
    shardsTotal: data.shards,
    rowsDone,
    rowsTotal,
    rowsScored: sum('rowsScored'),
    rowsQuarantined: sum('rowsQuarantined'),
    rowsIneligible: sum('rowsIneligible'),
    rowsPerSecond,
    etaSeconds: rowsPerSecond > 0 ? Math.round((rowsTotal - rowsDone) / rowsPerSecond) : null,
  };
}

/** The most recent runs (by commit job), newest first, with their status. */
export async function listRuns(conn: QueueConnection, limit = 20): Promise<RunStatus[]> {
  const commits = new Queue(QUEUES.commits, { connection: conn.connection, prefix: conn.prefix });
  try {
    const jobs = await commits.getJobs(['active', 'waiting', 'waiting-children', 'completed', 'failed', 'delayed', 'prioritized'], 0, limit - 1, false);
    const ids = [...new Set(jobs.map((j) => String(j.id).replace(/^commit__/, '')))];
    return Promise.all(ids.map((id) => runStatus(conn, id)));
  } finally {
    await commits.close();
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
      if (state === 'failed') {
        const shards = new Queue(QUEUES.shards, { connection: conn.connection, prefix: conn.prefix });
        try {
          const data = parseJobData(commitJobSchema, commit.data, commit.id);
          const failedShards: NonNullable<RunStatus['failedShards']> = [];
          for (const spec of data.shardSpecs) {
            const job = await shards.getJob(jobIds.shard(runId, spec.index));
            if (job && (await job.getState()) === 'failed') failedShards.push({ index: spec.index, file: spec.file, reason: job.failedReason });
          }
          return { runId, state: 'failed', reason: failedShards[0]?.reason ?? commit.failedReason, failedShards };
        } finally {
          await shards.close();
        }
      }
      return { runId, state: 'running', progress: await progressOf(commit) };
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

/**
 * Resumes a failed run: keeps the results of shards that completed, re-enqueues only the shards
 * that failed or are missing (same job ids), and commits once they are done. Returns the shard
 * indices re-enqueued. Refuses runs that are not failed, and files whose row groups changed.
 */
export async function resumeRun(conn: QueueConnection, runId: string, store: ObjectStore): Promise<number[]> {
  const common = { connection: conn.connection, prefix: conn.prefix };
  const commits = new Queue(QUEUES.commits, common);
  const shardsQueue = new Queue(QUEUES.shards, common);
  const flows = new FlowProducer(common);
  try {
    const commit = await commits.getJob(jobIds.commit(runId));
    if (!commit) throw new ChurnError('INPUT_NOT_FOUND', `run ${runId} has no commit job (never planned, or removed by retention); enqueue it again with churn run`);
    const state = await commit.getState();
    if (state !== 'failed') throw new ChurnError('INVALID_ARGUMENT', `run ${runId} is ${state}; only a failed run can be resumed`);
    const data = parseJobData(commitJobSchema, commit.data, commit.id);
    const prior: Record<string, unknown>[] = [];
    const rerun: ShardSpec[] = [];
    for (const shard of data.shardSpecs) {
      const job = await shardsQueue.getJob(jobIds.shard(runId, shard.index));
      if (job && (await job.getState()) === 'completed') {
        prior.push(job.returnvalue as Record<string, unknown>);
      } else {
        if (job) await job.remove();
        rerun.push(shard);
      }
    }
    // The failed shards' files were usually replaced: re-read their footers, and refuse a file
    // whose row groups changed (its shards would no longer line up; plan the run anew).
    const inputFiles = data.inputFiles.map((f) => ({ ...f }));
    for (const [i, shard] of rerun.entries()) {
      const head = await store.head(shard.file);
      if (!head) throw new ChurnError('INPUT_NOT_FOUND', `${shard.file} (shard ${shard.index}) no longer exists; put the corrected file back, then resume`);
      const footer = await readParquetFooter({ store, uri: shard.file, size: head.size });
      const rows = shard.rowGroups.reduce((a, g) => a + (footer.rowGroupRows[g] ?? Number.NaN), 0);
      const planned = inputFiles.find((f) => f.uri === shard.file);
      if (rows !== shard.rows || (planned && planned.rows !== footer.numRows)) {
        throw new ChurnError('INVALID_ARGUMENT', `${shard.file} changed shape since run ${runId} was planned (${footer.numRows} rows in ${footer.rowGroupRows.length} row groups); remove the run's jobs and enqueue it again with churn run`);
      }
      rerun[i] = { ...shard, fileSize: head.size };
      if (planned) planned.size = head.size;
    }
    await commit.remove({ removeChildren: false });
    const next: CommitJob = { ...data, inputFiles, priorOutcomes: prior };
    await flows.add({
      name: 'commit',
      queueName: QUEUES.commits,
      data: next,
      opts: { ...defaultJobOptions(), jobId: jobIds.commit(runId) },
      children: rerun.map((shard) => ({
        name: 'shard',
        queueName: QUEUES.shards,
        data: { runId, asOf: data.asOf, model: data.model, modelSha256: data.modelSha256, output: data.output, scoredAt: data.startedAt, shard, settings: data.settings } satisfies ShardJob,
        opts: { ...defaultJobOptions(), jobId: jobIds.shard(runId, shard.index), failParentOnFailure: true },
      })),
    });
    return rerun.map((s) => s.index);
  } finally {
    await Promise.all([commits.close(), shardsQueue.close(), flows.close()]);
  }
}

export interface ScheduleInfo {
  name: string;
  cron?: string;
  tz?: string;
  next?: string;
  tick?: ScheduleTick;
}

/**
 * Creates or replaces a nightly schedule (BullMQ job scheduler): each tick lands in the
 * schedules queue, where the producer turns it into a run request for the newest partition.
 */
export async function setSchedule(conn: QueueConnection, tick: ScheduleTick, cron: string, tz?: string): Promise<void> {
  const queue = new Queue(QUEUES.schedules, { connection: conn.connection, prefix: conn.prefix });
  try {
    await queue.upsertJobScheduler(jobIds.schedule(tick.name), { pattern: cron, ...(tz ? { tz } : {}) }, { name: 'tick', data: tick, opts: defaultJobOptions() });
  } finally {
    await queue.close();
  }
}

export async function listSchedules(conn: QueueConnection): Promise<ScheduleInfo[]> {
  const queue = new Queue(QUEUES.schedules, { connection: conn.connection, prefix: conn.prefix });
  try {
    return (await queue.getJobSchedulers(0, -1, true)).map((s) => {
      const tick = s.template?.data as ScheduleTick | undefined;
      return {
        name: tick?.name ?? s.key.replace(/^schedule__/, ''),
        ...(s.pattern ? { cron: s.pattern } : {}),
        ...(s.tz ? { tz: s.tz } : {}),
        ...(s.next ? { next: new Date(s.next).toISOString() } : {}),
        ...(tick ? { tick } : {}),
      };
    });
  } finally {
    await queue.close();
  }
}

/** Removes a schedule; false when there was none of that name. */
export async function removeSchedule(conn: QueueConnection, name: string): Promise<boolean> {
  const queue = new Queue(QUEUES.schedules, { connection: conn.connection, prefix: conn.prefix });
  try {
    return await queue.removeJobScheduler(jobIds.schedule(name));
  } finally {
    await queue.close();
  }
}
