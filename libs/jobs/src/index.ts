export { queueConnectionFromEnv } from './redis-connection';
export type { QueueConnection } from './redis-connection';
export { QUEUES, jobIds } from './queue-names';
export { runRequestSchema, shardJobSchema, shardSpecSchema, scoringSettingsSchema, parseJobData } from './job-payloads';
export type { RunRequest, ShardJob } from './job-payloads';
export { defaultJobOptions, EVENTS_MAX_LEN } from './job-options';
