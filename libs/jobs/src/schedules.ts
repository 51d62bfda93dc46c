import { parseExpression } from 'cron-parser';
import { ChurnError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';
import { resolveRequest } from '@churn/scoring';
import { defaultJobOptions } from './job-options';
import { parseJobData, scheduleTickSchema, type ScheduleTick } from './job-payloads';
import { closeClients, connectQueue, queueError } from './queue-connect';
import { jobIds, QUEUES } from './queue-names';
import type { QueueConnection } from './redis-connection';

export interface ScheduleInfo {
  name: string;
  cron?: string;
  tz?: string;
  next?: string;
  tick?: ScheduleTick;
}

/** Refuses a cron expression or time zone BullMQ would reject later, naming the problem. */
export function checkCron(cron: string, tz?: string): void {
  if (tz !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      throw new ChurnError('INVALID_ARGUMENT', `unknown time zone "${tz}"; use an IANA name such as Europe/Berlin or UTC`, { details: { tz }, settings: ['tz'] });
    }
  }
  try {
    parseExpression(cron, tz ? { tz } : {});
  } catch (cause) {
    throw new ChurnError('INVALID_ARGUMENT', `"${cron}" is not a valid cron expression (${(cause as Error).message}); e.g. "0 2 * * *" for 02:00 every day`, { cause, details: { cron }, settings: ['cron'] });
  }
}

/**
 * Creates or replaces a nightly schedule (a BullMQ job scheduler): each tick lands in the
 * schedules queue, where the producer turns it into a run request for the newest partition.
 * The request and the cron expression are validated first, with the checks embedded mode uses.
 */
export async function setSchedule(conn: QueueConnection, store: ObjectStore, tick: ScheduleTick, cron: string, tz?: string): Promise<void> {
  const parsed = parseJobData(scheduleTickSchema, tick, `schedule ${tick.name}`);
  checkCron(cron, tz);
  await resolveRequest(store, parsed.request);
  const queue = await connectQueue(conn, QUEUES.schedules);
  try {
    await queue.upsertJobScheduler(jobIds.schedule(parsed.name), { pattern: cron, ...(tz ? { tz } : {}) }, { name: 'tick', data: parsed, opts: defaultJobOptions() });
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    await closeClients(queue);
  }
}

export async function listSchedules(conn: QueueConnection): Promise<ScheduleInfo[]> {
  const queue = await connectQueue(conn, QUEUES.schedules);
  try {
    return (await queue.getJobSchedulers(0, -1, true)).map((s) => {
      const tick = scheduleTickSchema.safeParse(s.template?.data);
      return {
        name: tick.success ? tick.data.name : s.key.replace(/^schedule__/, ''),
        ...(s.pattern ? { cron: s.pattern } : {}),
        ...(s.tz ? { tz: s.tz } : {}),
        ...(s.next ? { next: new Date(s.next).toISOString() } : {}),
        ...(tick.success ? { tick: tick.data } : {}),
      };
    });
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    await closeClients(queue);
  }
}

/** Removes a schedule; false when there was none of that name. */
export async function removeSchedule(conn: QueueConnection, name: string): Promise<boolean> {
  const queue = await connectQueue(conn, QUEUES.schedules);
  try {
    return await queue.removeJobScheduler(jobIds.schedule(name));
  } catch (error) {
    throw queueError(conn, error);
  } finally {
    await closeClients(queue);
  }
}
