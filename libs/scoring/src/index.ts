export { scoreShard } from './score-shard';
export type { InferenceBatch, ShardProgress } from './score-shard';
export { createScoringContext, shardRunOf, shardRunSchema } from './scoring-context';
export type { ScoringContext, ScoringContextOptions, ShardRun } from './scoring-context';
export { planShards, shardSpecSchema } from './shard-planner';
export type { ShardSpec } from './shard-planner';
export { runLocal } from './local-runner';
export type { LocalRunOptions, RunProgress } from './local-runner';
export { runPool } from './async-pool';
export { createInProcessExecutor } from './shard-executor';
export type { ShardExecutor } from './shard-executor';
export { createWorkerThreadExecutor, ScoringThreads } from './worker-thread-executor';
export type { WorkerThreadExecutorOptions } from './worker-thread-executor';
export {
  resolveRunSettings,
  scoringOverridesSchema,
  explainOverridesSchema,
  driftOverridesSchema,
  executionSettingsSchema,
  runSettingsSchema,
  EXPLAIN_METHODS,
  EXPLAIN_BASELINES,
  EXPLAIN_SPACES,
  DEFAULT_EXPLAIN_SEED,
  DEFAULT_SHARD_ROWS,
  pricePerDeviceHourFromEnv,
} from './run-settings';
export type { DriftOverrides, ScoringOverrides, ExplainOverrides, ExecutionSettings, ExecutionSettingsInput, RunSettings } from './run-settings';
export { explainConfigOf, modelTreesOf } from './explain-config';
export type { ExplainConfig } from './explain-config';
export { explainShard } from './shard-explainer';
export { identifyRun, resolveRequest, planRun, planFromFooters, readRunFooters, parsePlan, runIdOf, sameInput, runPlanSchema, runRequestSchema, runIdSchema, inputFileSchema } from './run-plan';
export type { RunPlan, RunRequest, RunRequestInput, IdentifiedRun, ResolvedRequest, InputFile } from './run-plan';
export { commitRun, parseOutcomes, runDrift } from './run-committer';
export type { CommitOptions, CommitResult } from './run-committer';
export { runSummarySchema, summarizeRun } from './run-summary';
export type { RunSummary } from './run-summary';
