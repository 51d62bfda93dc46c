import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { LocalObjectStore } from '@churn/object-store';
import { commitRunJob, planRunJob } from './run-planner-job';

const conn = { connection: { host: '127.0.0.1', port: 1 }, prefix: 'unused' };

describe('producer jobs', () => {
  const store = new LocalObjectStore();

  it('refuses a malformed run request without retry', async () => {
    const error = (await planRunJob(store, conn, { id: 'plan__x', data: { runId: 'x' }, opts: {} } as unknown as Job).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toMatch(/^INVALID_ARGUMENT: job plan__x carries invalid data/);
  });

  it('does not commit a run with missing shard results (retryable: results may still be landing)', async () => {
    const data = {
      runId: 'm-1_2026-01-01',
      asOf: '2026-01-01',
      model: '/nonexistent/bundle',
      modelSha256: 'd'.repeat(64),
      output: '/tmp/out',
      partition: 'file:///data/as_of=2026-01-01',
      inputFiles: [{ uri: 'file:///data/as_of=2026-01-01/part-00000.parquet', size: 10, rows: 5 }],
      shards: 2,
      shardSpecs: [],
      shardRows: 1000,
      settings: { device: 'cpu' },
      startedAt: '2026-01-01T00:00:00.000Z',
    };
    const job = { id: 'commit__m-1_2026-01-01', data, getChildrenValues: async () => ({ a: {} }) } as unknown as Job;
    const error = (await commitRunJob(store, job).catch((e: unknown) => e)) as Error;
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect(error).toMatchObject({ code: 'COMMIT_FAILED', message: 'run m-1_2026-01-01 has 1 of 2 shard results; not committed' });
  });
});
