import { Queue } from 'bullmq';
import { closeClients, commitJobSchema, QUEUES } from '@churn/jobs';
import { releaseLeaseOf, renewLeaseOf, tableLayout } from '@churn/warehouse';
import type { ProducerContext } from './producer-jobs';

const IN_FLIGHT = ['waiting-children', 'waiting', 'prioritized', 'active', 'delayed'] as const;

/**
 * Keeps the partition leases of distributed runs honest: every `intervalMs`, renews the lease
 * of each run still in flight (its commit job waits for shards or is committing) if that run
 * holds it, and releases the lease of attempts that failed. Any producer may do it; if none runs, leases go
 * stale after their timeout and the next run breaks them (logged).
 */
export function startLeaseKeeper(ctx: ProducerContext, intervalMs: number): { stop(): Promise<void> } {
  const commits = new Queue(QUEUES.commits, { connection: ctx.conn.connection, prefix: ctx.conn.prefix });
  let running: Promise<void> | undefined;
  const leaseOf = (data: unknown) => {
    const parsed = commitJobSchema.safeParse(data);
    if (!parsed.success) return undefined;
    const { plan, attempt } = parsed.data;
    return { uri: tableLayout(plan.output).partition(plan.partition.asOf, `${plan.model.name}-${plan.model.version}`).leaseUri, runId: plan.runId, attempt };
  };
  const tick = async () => {
    for (const job of await commits.getJobs([...IN_FLIGHT], 0, 999)) {
      const lease = leaseOf(job.data);
      if (!lease) continue;
      await renewLeaseOf(ctx.store, lease.uri, lease.runId, lease.attempt).catch((error: unknown) =>
        ctx.logger.warn(`lease of run ${lease.runId} not renewed: ${(error as Error).message}`, { runId: lease.runId, attempt: lease.attempt }),
      );
    }
    for (const job of await commits.getJobs(['failed'], 0, 199)) {
      const lease = leaseOf(job.data);
      if (lease && (await releaseLeaseOf(ctx.store, lease.uri, lease.runId, lease.attempt).catch(() => false))) {
        ctx.logger.info(`released the lease of failed run ${lease.runId} (attempt ${lease.attempt})`, { runId: lease.runId, attempt: lease.attempt });
      }
    }
  };
  const timer = setInterval(() => {
    running ??= tick()
      .catch((error: unknown) => ctx.logger.error(`lease keeper: ${(error as Error).message}`))
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      // Closing first (bounded) fails a tick stuck on a dead connection, so stopping cannot hang.
      await closeClients(commits);
      await running;
    },
  };
}
