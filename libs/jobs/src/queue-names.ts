/** Queue names (without the key prefix). */
export const QUEUES = {
  /** Run requests: the producer plans them into flows. */
  runs: 'churn-runs',
  /** One job per shard, consumed by workers. */
  shards: 'churn-shards',
  /** One parent job per run: commits when all its shard children are done. */
  commits: 'churn-commits',
  /** Ticks of nightly job schedulers: the producer turns each into a run request. */
  schedules: 'churn-schedules',
} as const;

const pad = (n: number) => String(n).padStart(5, '0');

/** Job ids are derived from the run id (which has no `:`), so re-enqueueing adds nothing. */
export const jobIds = {
  plan: (runId: string) => `plan__${runId}`,
  commit: (runId: string) => `commit__${runId}`,
  shard: (runId: string, index: number) => `shard__${runId}__${pad(index)}`,
  schedule: (name: string) => `schedule__${name}`,
};
