import type { ObjectStore } from '@churn/object-store';
import { resolveRun, type ScoringSettings } from '@churn/scoring';
import type { QueueConnection } from './redis-connection';
import { enqueueRun } from './run-client';

export interface RunParameters {
  dataset: string;
  /** Partition to score; the latest when absent. */
  asOf?: string;
  model: string;
  output: string;
  shardRows: number;
  settings: ScoringSettings;
  priority?: number;
}

/**
 * Resolves the run (bundle checked, partition found: the run id is deterministic) and enqueues
 * its request. Used by `churn run` and by schedule ticks alike. Returns the run id and whether
 * a new request was added (false: that run was already enqueued).
 */
export async function requestRun(conn: QueueConnection, store: ObjectStore, params: RunParameters): Promise<{ runId: string; asOf: string; enqueued: boolean }> {
  const run = await resolveRun(store, { input: params.dataset, model: params.model, output: params.output, ...(params.asOf ? { asOf: params.asOf } : {}) });
  const enqueued = await enqueueRun(
    conn,
    {
      runId: run.runId,
      dataset: params.dataset,
      asOf: run.partition.asOf,
      model: run.bundle.uri,
      output: run.output,
      shardRows: params.shardRows,
      settings: params.settings,
      requestedAt: new Date().toISOString(),
    },
    params.priority ? { priority: params.priority } : {},
  );
  return { runId: run.runId, asOf: run.partition.asOf, enqueued };
}
