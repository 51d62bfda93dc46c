import { listAsOfDates, parseAsOf } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';
import { resolveRequest, type RunRequestInput } from '@churn/scoring';
import type { QueueConnection } from './redis-connection';
import { requestRun } from './run-requests';
import { runStatus, type RunStatus } from './run-status';

export interface BackfillOptions {
  /** The request of every date's run (its asOf is set per date). */
  request: Omit<RunRequestInput, 'asOf'>;
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
  if (from > to) throw new ChurnError('INVALID_ARGUMENT', `the first date ${from} is after the last date ${to}`, { settings: ['from', 'to'] });
  const max = options.maxConcurrentRuns ?? 2;
  if (!Number.isInteger(max) || max < 1) throw new ChurnError('INVALID_ARGUMENT', `the number of runs in flight must be a positive integer, got ${max}`, { settings: ['maxConcurrentRuns'] });
  // Settings are checked once, before any date is enqueued.
  await resolveRequest(store, options.request);
  const dates = (await listAsOfDates(store, options.request.dataset)).filter((d) => d >= from && d <= to);
  if (dates.length === 0) throw new ChurnError('INPUT_NOT_FOUND', `${options.request.dataset} has no as_of partitions between ${from} and ${to}`, { details: { from, to } });
  const inFlight = new Map<string, number>();
  const finished: RunStatus[] = [];
  const settle = async () => {
    for (const [runId, attempt] of [...inFlight]) {
      const status = await runStatus(conn, runId, attempt);
      if (status.state === 'committed' || status.state === 'failed' || status.state === 'unknown') {
        inFlight.delete(runId);
        finished.push(status);
        options.onRunDone?.(status);
      }
    }
  };
  const pause = () => new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  for (const asOf of dates) {
    while (inFlight.size >= max) {
      await settle();
      if (inFlight.size >= max) await pause();
    }
    const { runId, attempt } = await requestRun(conn, store, { ...options.request, asOf }, { priority: options.priority ?? 10 });
    inFlight.set(runId, attempt);
  }
  while (inFlight.size > 0) {
    await settle();
    if (inFlight.size > 0) await pause();
  }
  return finished;
}
