import type { RunPlan, ShardSpec } from '@churn/scoring';
import type { ShardOutcome } from '@churn/warehouse';
import { defaultJobOptions } from './job-options';
import type { CommitJob, ShardJob } from './job-payloads';
import { closeClients, connectFlowProducer, queueError } from './queue-connect';
import { jobIds, QUEUES } from './queue-names';
import type { QueueConnection } from './redis-connection';

export interface RunFlow {
  plan: RunPlan;
  attempt: number;
  /** The shards to score in this attempt (all of them, or those a resume re-runs). */
  shards: readonly ShardSpec[];
  /** Outcomes of shards finished by earlier attempts. */
  priorOutcomes?: readonly ShardOutcome[];
  priority?: number;
  startedAt: Date;
}

/**
 * Adds one run attempt as a BullMQ flow: a parent `commit` job holding the plan, and one child
 * per shard. Job ids come from the run id and attempt, so adding the same attempt twice adds
 * nothing. A failed shard fails the parent (`failParentOnFailure`), so no run waits forever.
 * The one flow builder, used by planning and by resume.
 */
export async function addRunFlow(conn: QueueConnection, flow: RunFlow): Promise<void> {
  const { plan, attempt } = flow;
  const priority = flow.priority ? { priority: flow.priority } : {};
  const commit: CommitJob = { plan, attempt, priorOutcomes: [...(flow.priorOutcomes ?? [])], startedAt: flow.startedAt.toISOString() };
  const producer = await connectFlowProducer(conn);
  try {
    await producer.add({
      name: 'commit',
      queueName: QUEUES.commits,
      data: commit,
      opts: { ...defaultJobOptions(), jobId: jobIds.commit(plan.runId, attempt), ...priority },
      children: flow.shards.map((shard) => ({
        name: 'shard',
        queueName: QUEUES.shards,
        data: { runId: plan.runId, attempt, shard } satisfies ShardJob,
        opts: { ...defaultJobOptions(), jobId: jobIds.shard(plan.runId, attempt, shard.index), failParentOnFailure: true, ...priority },
      })),
    });
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    await closeClients(producer);
  }
}
