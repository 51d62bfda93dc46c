import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { LocalObjectStore } from '@churn/object-store';
import { ShardProcessor } from './shard-processor';

const job = (data: unknown) => ({ id: 'shard__run_2026-01-01__00000', data }) as unknown as Job;

const valid = {
  runId: 'run_2026-01-01',
  asOf: '2026-01-01',
  model: '/nonexistent/bundle',
  modelSha256: 'c'.repeat(64),
  output: '/tmp/out',
  scoredAt: '2026-01-01T00:00:00.000Z',
  shard: { index: 0, file: '/tmp/x.parquet', fileSize: 10, rowGroups: [0], firstRow: 0, rows: 1 },
  settings: { device: 'cpu' },
};

describe('ShardProcessor', () => {
  const processor = new ShardProcessor({ store: new LocalObjectStore(), workerScript: '/nonexistent/shard-worker.js', threads: 1 });

  afterAll(() => processor.close());

  it('fails malformed job data without retry, naming the job', async () => {
    const error = (await processor.process(job({ ...valid, runId: 'a:b' })).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toMatch(/^INVALID_ARGUMENT: job shard__run_2026-01-01__00000 carries invalid data: runId/);
  });

  it('fails a job whose bundle is missing without retry', async () => {
    const error = (await processor.process(job(valid)).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toMatch(/^INVALID_BUNDLE: model bundle has no bundle.json/);
  });
});
