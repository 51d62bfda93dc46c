import type { ShardOutcome } from '@churn/warehouse';
import type { ShardSpec } from './shard-planner';
import { summarizeExplain, type ExplainSummary } from './explain-config';
import { createScoringContext, type ScoringContextOptions } from './scoring-context';
import { scoreShard } from './score-shard';

/** Something that scores shards: in this thread, or in worker threads. */
export interface ShardExecutor {
  /** Execution provider the model runs on. */
  readonly device: string;
  readonly batchRows: number;
  readonly maxBadRowFraction: number;
  /** How many shards it scores at once. */
  readonly concurrency: number;
  /** The explanation settings in force, for the run manifest. */
  readonly explain: ExplainSummary;
  score(shard: ShardSpec): Promise<ShardOutcome>;
  close(): Promise<void>;
}

/**
 * Scores shards on this thread, `concurrency` at a time: the I/O and decoding of one shard
 * overlap inference of another (ONNX Runtime runs on its own threads).
 */
export async function createInProcessExecutor(options: ScoringContextOptions, concurrency: number): Promise<ShardExecutor> {
  const ctx = await createScoringContext(options);
  return {
    device: ctx.device,
    batchRows: ctx.scorer.batchRows,
    maxBadRowFraction: ctx.maxBadRowFraction,
    concurrency,
    explain: summarizeExplain(ctx.explain),
    score: (shard) => scoreShard(ctx, shard),
    close: () => ctx.scorer.release(),
  };
}
