/** Queue names (without the key prefix). */
export const QUEUES = {
  /** Run requests: the producer plans them into flows. */
  runs: 'churn-runs',
  /** One job per shard, consumed by workers. */
  shards: 'churn-shards',
  /** One parent job per run attempt: commits when all its shard children are done. */
  commits: 'churn-commits',
  /** Ticks of nightly job schedulers: the producer turns each into a run request. */
  schedules: 'churn-schedules',
} as const;

const pad = (n: number) => String(n).padStart(5, '0');

/**
 * Job ids are derived from the run id (which has no `:`) and the attempt, so re-enqueueing an
 * attempt adds nothing, and a new attempt of a failed run gets jobs of its own.
 */
export const jobIds = {
  plan: (runId: string, attempt: number) => `plan__${runId}__a${attempt}`,
  commit: (runId: string, attempt: number) => `commit__${runId}__a${attempt}`,
  shard: (runId: string, attempt: number, index: number) => `shard__${runId}__a${attempt}__${pad(index)}`,
  schedule: (name: string) => `schedule__${name}`,
};

/** The run id and attempt of a commit job id, or undefined for another id. */
export function parseCommitJobId(id: string): { runId: string; attempt: number } | undefined {
  const m = /^commit__(.+)__a(\d+)$/.exec(id);
  return m?.[1] && m[2] ? { runId: m[1], attempt: Number(m[2]) } : undefined;
}
