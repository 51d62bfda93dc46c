export { queueConnectionFromEnv } from './redis-connection';
export type { QueueConnection } from './redis-connection';
export { QUEUES, jobIds } from './queue-names';
export { runRequestSchema, shardJobSchema, commitJobSchema, shardSpecSchema, scoringSettingsSchema, parseJobData } from './job-payloads';
export type { RunRequest, ShardJob, CommitJob } from './job-payloads';
export { enqueueRun, resumeRun, runStatus, waitForRun } from './run-client';
export type { RunStatus } from './run-client';
export { defaultJobOptions, EVENTS_MAX_LEN } from './job-options';
