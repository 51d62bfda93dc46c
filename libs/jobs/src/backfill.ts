import { listAsOfDates, parseAsOf } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';
import type { QueueConnection } from './redis-connection';
import { runStatus, type RunStatus } from './run-client';
import { requestRun, type RunParameters } from './run-requests';

export interface BackfillOptions extends Omit<RunParameters, 'asOf' | 'priority'> {
  from: string;
  to: string;
  /** At most this many backfill runs in flight at once (default 2). */
  maxConcurrentRuns?: number;
  /** Priority of backfill runs: lower than scheduled runs (1). Default 10. */
  priority?: number;
  pollMs?: number;
  onRunDone?: (status: RunStatus) => void;
}

/**
 * One run per as-of date of the dataset within [from, to], oldest first, at a lower priority
 * than scheduled runs, with at most `maxConcurrentRuns` of them in flight (this call keeps the
 * cap: it enqueues the next date when one finishes). Returns every run's final status.
 */
export async function backfill(conn: QueueConnection, store: ObjectStore, options: BackfillOptions): Promise<RunStatus[]> {
  const from = parseAsOf(options.from);
  const to = parseAsOf(options.to);
  if (from > to) throw new ChurnError('INVALID_ARGUMENT', `--from ${from} is after --to ${to}`);
  const max = options.maxConcurrentRuns ?? 2;
  if (!Number.isInteger(max) || max < 1) throw new ChurnError('INVALID_ARGUMENT', `--max-concurrent-runs must be a positive integer, got ${max}`);
  const dates = (await listAsOfDates(store, options.dataset)).filter((d) => d >= from && d <= to);
  if (dates.length === 0) throw new ChurnError('INPUT_NOT_FOUND', `${options.dataset} has no as_of partitions between ${from} and ${to}`);
  const { from: _f, to: _t, maxConcurrentRuns: _m, onRunDone, pollMs, ...params } = options;
  const inFlight = new Set<string>();
  const finished: RunStatus[] = [];
  const settle = async () => {
    for (const runId of [...inFlight]) {
      const status = await runStatus(conn, runId);
      if (status.state === 'committed' || status.state === 'failed' || status.state === 'unknown') {
        inFlight.delete(runId);
        finished.push(status);
        onRunDone?.(status);
      }
    }
  };
  for (const asOf of dates) {
    while (inFlight.size >= max) {
      await settle();
      if (inFlight.size >= max) await new Promise((resolve) => setTimeout(resolve, pollMs ?? 500));
    }
    const { runId } = await requestRun(conn, store, { ...params, asOf, priority: options.priority ?? 10 });
    inFlight.add(runId);
  }
  while (inFlight.size > 0) {
    await settle();
    if (inFlight.size > 0) await new Promise((resolve) => setTimeout(resolve, pollMs ?? 500));
  }
  return finished;
}
