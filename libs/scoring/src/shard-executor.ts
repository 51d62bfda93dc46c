import type { ShardOutcome } from '@churn/warehouse';
import type { ShardSpec } from './shard-planner';
import { createScoringContext, type ScoringContextOptions } from './scoring-context';
import { scoreShard, type ShardProgress } from './score-shard';

/** Something that scores shards: in this thread, or in worker threads. */
export interface ShardExecutor {
  /** Execution provider the model runs on. */
  readonly device: string;
  /** Why providers `auto` tried first were not used (`webgpu: no Vulkan loader ...`). */
  readonly deviceFallbacks: readonly string[];
  readonly batchRows: number;
  /** How many shards it scores at once. */
  readonly concurrency: number;
  score(shard: ShardSpec, onProgress?: ShardProgress): Promise<ShardOutcome>;
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
    deviceFallbacks: ctx.scorer.fallbacks,
    batchRows: ctx.scorer.batchRows,
    concurrency,
    score: (shard, onProgress) => scoreShard(ctx, shard, onProgress),
    close: () => ctx.scorer.release(),
  };
}
