import { UnrecoverableError, type Job } from 'bullmq';
import { serializeError, toChurnError } from '@churn/errors';
import { jobProgressSchema } from './job-payloads';

/**
 * What a processor throws for a failure, by the error table's retry policy: `never` becomes
 * BullMQ's UnrecoverableError (failed at once, no retry), `backoff` an ordinary error (retried
 * with exponential backoff). Before that, the failure is recorded in the job's progress as
 * data (code, message, details), so status readers never parse a reason text.
 */
export async function queueFailure(job: Job, error: unknown): Promise<Error> {
  const failure = toChurnError(error);
  const previous = jobProgressSchema.safeParse(job.progress);
  await job.updateProgress({ ...(previous.success ? previous.data : { rowsDone: 0, rowsTotal: 0 }), failure: serializeError(failure) }).catch(() => undefined);
  if (failure.retry === 'never') return new UnrecoverableError(failure.message);
  const retryable = new Error(failure.message, { cause: failure });
  retryable.name = failure.code;
  return retryable;
}
