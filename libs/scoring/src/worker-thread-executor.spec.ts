/**
 * The worker-thread executor's crash paths, with real threads running a protocol-speaking test
 * worker (src/testing/protocol-worker.js) that dies the ways scoring threads die.
 */
import * as path from 'node:path';
import { loadBundle, type LoadedBundle } from '@churn/model-bundle';
import { LocalObjectStore } from '@churn/object-store';
import { churnErrorOf } from '@churn/testing';
import type { ShardRun } from './scoring-context';
import type { ShardSpec } from './shard-planner';
import { createWorkerThreadExecutor } from './worker-thread-executor';

const SCRIPT = path.join(__dirname, 'testing', 'protocol-worker.js');
const BUNDLE = path.resolve(__dirname, '..', '..', '..', 'models', 'churn-mlp');

function shardRun(runId = 'churn-mlp-1.0.0_2026-01-01_0123456789ab'): ShardRun {
  return {
    runId,
    attempt: 1,
    asOf: '2026-01-01',
    output: 'file:///tmp/scores',
    model: { name: 'churn-mlp', version: '1.0.0', digest: 'd'.repeat(64) },
    settings: {
      explain: { policy: 'none', method: 'sampling', baseline: 'median', space: 'probability', permutations: 8, seed: 1 },
      drift: { psiWarn: 0.1, psiAlert: 0.25, nullRateWarn: 0.05, nullRateAlert: 0.2, quarantineRateWarn: 0.01, quarantineRateAlert: 0.03, onDrift: 'warn' },
      maxBadRowFraction: 0.05,
      shardRows: 1000,
    },
    device: 'cpu',
    scoredAt: '2026-01-01T00:00:00.000Z',
  };
}

const shard = (index: number, file: string): ShardSpec => ({ index, file: `file:///data/${file}.parquet`, fileSize: 100, rowGroups: [0], firstRow: 0, rows: 10 });

describe('createWorkerThreadExecutor', () => {
  let bundle: LoadedBundle;

  beforeAll(async () => {
    bundle = await loadBundle(new LocalObjectStore(), BUNDLE);
  });

  it('fails only the shard whose thread died, with SCORING_THREAD_CRASHED, and later shards still score', async () => {
    const log: string[] = [];
    const executor = await createWorkerThreadExecutor({ workerScript: SCRIPT, threads: 1, init: { bundle, run: shardRun() }, log: (m) => log.push(m) });
    try {
      const crashed = await churnErrorOf(executor.score(shard(0, 'exit')));
      expect(crashed.code).toBe('SCORING_THREAD_CRASHED');
      expect(crashed.retry).toBe('backoff');
      expect(crashed.message).toMatch(/the thread scoring shard 0 \(file:\/\/\/data\/exit\.parquet\) died: thread exited with code 3; the thread was replaced/);
      expect(crashed.details).toMatchObject({ shard: 0, file: 'file:///data/exit.parquet' });
      const progress: number[] = [];
      await expect(executor.score(shard(1, 'healthy'), (rows) => progress.push(rows))).resolves.toMatchObject({ index: 1, rowsScored: 10 });
      expect(progress).toEqual([5]);
      const uncaught = await churnErrorOf(executor.score(shard(2, 'uncaught')));
      expect(uncaught.code).toBe('SCORING_THREAD_CRASHED');
      expect(uncaught.message).toMatch(/boom in the thread/);
      await expect(executor.score(shard(3, 'healthy'))).resolves.toMatchObject({ index: 3 });
      expect(log.filter((m) => m.includes('starting a replacement'))).toHaveLength(2);
    } finally {
      await executor.close();
    }
  });

  it('reports a decoder trap with its own code, then replaces the thread it poisoned', async () => {
    const log: string[] = [];
    const executor = await createWorkerThreadExecutor({ workerScript: SCRIPT, threads: 2, init: { bundle, run: shardRun() }, log: (m) => log.push(m) });
    try {
      const trapped = await churnErrorOf(executor.score(shard(0, 'trap')));
      expect(trapped.code).toBe('CORRUPT_INPUT');
      const results = await Promise.all([1, 2, 3, 4].map((i) => executor.score(shard(i, 'healthy'))));
      expect(results.map((r) => r.index)).toEqual([1, 2, 3, 4]);
      // The poisoned thread logs when it has exited, which can come after the other thread's
      // results on a loaded machine: wait for the line (bounded), never a fixed sleep.
      for (let i = 0; i < 600 && log.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(log).toEqual([expect.stringMatching(/recycled after a decoder trap; starting a replacement/)]);
    } finally {
      await executor.close();
    }
  });

  it('fails to start, closing every thread, when a thread cannot initialise', async () => {
    const error = await churnErrorOf(createWorkerThreadExecutor({ workerScript: SCRIPT, threads: 2, init: { bundle, run: shardRun('init-fails_2026-01-01_0123456789ab') } }));
    expect(error).toMatchObject({ code: 'INVALID_BUNDLE', message: 'cannot load the model' });
  });
});
