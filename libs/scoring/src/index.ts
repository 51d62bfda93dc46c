export { scoreShard } from './score-shard';
export { createScoringContext } from './scoring-context';
export type { ScoringContext, ScoringContextOptions } from './scoring-context';
export { planShards } from './shard-planner';
export type { ShardSpec } from './shard-planner';
export { runLocal } from './local-runner';
export type { LocalRunOptions, LocalRunSummary } from './local-runner';
export { runPool } from './async-pool';
