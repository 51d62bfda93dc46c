import type { JobsOptions } from 'bullmq';

const DAY = 24 * 3600;

/**
 * Defaults for every job: retries with exponential backoff for transient failures (bad input is
 * failed without retry by the worker), and removal by age and count so Redis does not grow
 * across nightly runs.
 */
export function defaultJobOptions(attempts = 3): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: 7 * DAY, count: 10_000 },
    removeOnFail: { age: 30 * DAY, count: 10_000 },
  };
}

/** Event streams are capped so a long-lived queue's event log stays bounded. */
export const EVENTS_MAX_LEN = 10_000;
