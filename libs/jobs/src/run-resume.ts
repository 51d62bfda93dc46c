import { readParquetFooter } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';
import { identifyRun, type ShardSpec } from '@churn/scoring';
import { shardOutcomeSchema, type ShardOutcome } from '@churn/warehouse';
import { commitJobSchema } from './job-payloads';
import { closeClients, connectQueues, queueError } from './queue-connect';
import { jobIds, QUEUES } from './queue-names';
import type { QueueConnection } from './redis-connection';
import { addRunFlow } from './run-flow';
import { enqueuePlan } from './run-requests';
import { advanceAttempt, readRunRecord, withRedis } from './run-registry';
import { planJobOf, runStatus } from './run-status';

export interface ResumeResult {
  runId: string;
  attempt: number;
  /** 'planning': the run failed before it had shards and is planned again. */
  stage: 'planning' | 'scoring';
  /** Shards scored again (the others keep their results). */
  reenqueued: number[];
}

/**
 * Resumes a failed run as a new attempt. A run that failed at planning is planned again from
 * its request. A run that failed while scoring keeps the results (and staged parts) of the
 * shards that finished and re-enqueues only the failed or missing ones, whose files may have
 * been replaced meanwhile: a replaced file must keep its row groups (its shards must still line
 * up), and its new fingerprint goes into the attempt's plan.
 */
export async function resumeRun(conn: QueueConnection, store: ObjectStore, runId: string): Promise<ResumeResult> {
  const record = await withRedis(conn, (redis) => readRunRecord(redis, conn, runId));
  if (!record) throw new ChurnError('INPUT_NOT_FOUND', `run ${runId} is not known to this queue (never requested, or forgotten after 30 days); request it again with the same settings`, { details: { runId } });
  const status = await runStatus(conn, runId, record.attempt);
  if (status.state !== 'failed') {
    throw new ChurnError('INVALID_ARGUMENT', `run ${runId} (attempt ${record.attempt}) is ${status.state}; only a failed run can be resumed`, { details: { runId, state: status.state } });
  }
  const next = record.attempt + 1;
  const claim = () => withRedis(conn, (redis) => advanceAttempt(redis, conn, runId, record.attempt));

  if (status.stage === 'planning') {
    const plan = await planJobOf(conn, runId, record.attempt);
    if (!plan) throw new ChurnError('INPUT_NOT_FOUND', `the plan job of run ${runId} attempt ${record.attempt} is gone; request the run again`);
    // Validated again: a request that cannot plan now fails here, not in the producer.
    const identified = await identifyRun(store, plan.request);
    if (identified.runId !== runId) throw new ChurnError('INVALID_ARGUMENT', `run ${runId} now resolves to run ${identified.runId} (its bundle changed); request it again`);
    if (!(await claim())) throw new ChurnError('INVALID_ARGUMENT', `run ${runId} was resumed or requested again meanwhile`);
    await enqueuePlan(conn, { ...plan, attempt: next, requestedAt: new Date().toISOString() });
    return { runId, attempt: next, stage: 'planning', reenqueued: [] };
  }

  const [commits, shardsQueue] = await connectQueues(conn, [QUEUES.commits, QUEUES.shards]);
  try {
    const commit = await commits.getJob(jobIds.commit(runId, record.attempt));
    const parsed = commit ? commitJobSchema.safeParse(commit.data) : undefined;
    if (!parsed?.success) throw new ChurnError('INPUT_NOT_FOUND', `the commit job of run ${runId} attempt ${record.attempt} is gone or unreadable; request the run again`);
    const data = parsed.data;
    const prior: ShardOutcome[] = [...data.priorOutcomes];
    const rerun: ShardSpec[] = [];
    const finished = new Set(prior.map((o) => o.index));
    for (const shard of data.plan.shards) {
      if (finished.has(shard.index)) continue;
      // State first, then the job: a job read before it completes carries no return value yet.
      const shardId = jobIds.shard(runId, record.attempt, shard.index);
      const job = (await shardsQueue.getJobState(shardId)) === 'completed' ? await shardsQueue.getJob(shardId) : undefined;
      const outcome = job ? shardOutcomeSchema.safeParse(job.returnvalue) : undefined;
      if (outcome?.success) prior.push(outcome.data);
      else rerun.push(shard);
    }
    const files = data.plan.partition.files.map((f) => ({ ...f }));
    for (const [i, shard] of rerun.entries()) {
      const head = await store.head(shard.file);
      if (!head) throw new ChurnError('INPUT_NOT_FOUND', `${shard.file} (shard ${shard.index}) no longer exists; put the corrected file back, then resume`, { details: { file: shard.file } });
      const footer = await readParquetFooter({ store, uri: shard.file, size: head.size });
      const rows = shard.rowGroups.reduce((a, g) => a + (footer.rowGroupRows[g] ?? Number.NaN), 0);
      const planned = files.find((f) => f.uri === shard.file);
      if (rows !== shard.rows || (planned?.rows !== undefined && planned.rows !== footer.numRows)) {
        throw new ChurnError('INVALID_ARGUMENT', `${shard.file} changed shape since run ${runId} was planned (${footer.numRows} rows in ${footer.rowGroupRows.length} row groups); request the run again instead of resuming it`, {
          details: { file: shard.file },
        });
      }
      rerun[i] = { ...shard, fileSize: head.size };
      if (planned) {
        planned.size = head.size;
        delete planned.etag;
        delete planned.mtime;
        if (head.etag) planned.etag = head.etag;
        else if (head.lastModified) planned.mtime = head.lastModified.toISOString();
      }
    }
    const sizeOf = new Map(files.map((f) => [f.uri, f.size]));
    const plan = { ...data.plan, partition: { ...data.plan.partition, files }, shards: data.plan.shards.map((s) => ({ ...s, fileSize: sizeOf.get(s.file) ?? s.fileSize })) };
    if (!(await claim())) throw new ChurnError('INVALID_ARGUMENT', `run ${runId} was resumed or requested again meanwhile`);
    await addRunFlow(conn, { plan, attempt: next, shards: rerun, priorOutcomes: prior, startedAt: new Date(), ...(commit?.opts.priority ? { priority: commit.opts.priority } : {}) });
    return { runId, attempt: next, stage: 'scoring', reenqueued: rerun.map((s) => s.index) };
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    await closeClients(commits, shardsQueue);
  }
}
