/**
 * Distributed mode end to end (issue 4, tests 1 and 5): a dataset, bundle and score table on a
 * real S3-protocol server (s3rver on loopback), queues on the real Redis under a private prefix,
 * one producer and two worker processes. `churn run --wait` commits, the table has each
 * eligible row exactly once and matches embedded mode, and the same run enqueued twice at the
 * same moment adds one set of jobs.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import S3rver from 's3rver';
import { churn, DEFAULT_BUNDLE, startChurn, type ChurnProcess } from './support/churn-cli';

const AS_OF = '2026-07-01';

describe('distributed scoring over Redis and S3', () => {
  let dir: string;
  let server: S3rver;
  let env: NodeJS.ProcessEnv;
  const processes: ChurnProcess[] = [];
  const prefix = `churn-e2e-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-dist-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(dir, 's3'), configureBuckets: [{ name: 'data' }, { name: 'models' }, { name: 'scores' }] });
    const { port } = await server.run();
    env = {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      REDIS_URL: 'redis://127.0.0.1:6379',
      CHURN_QUEUE_PREFIX: prefix,
    };
    const client = new S3Client({ endpoint: env['AWS_ENDPOINT_URL'], region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    for (const file of ['bundle.json', 'model.onnx']) {
      await client.send(new PutObjectCommand({ Bucket: 'models', Key: `churn-mlp/${file}`, Body: await fs.readFile(path.join(DEFAULT_BUNDLE, file)) }));
    }
    client.destroy();
    const synth = await churn(['synth', '--customers', '20000', '--as-of', AS_OF, '--out', 's3://data/customers', '--seed', '8', '--files', '3'], { env });
    expect(synth.code).toBe(0);
    processes.push(startChurn(['producer'], env), startChurn(['worker', '--concurrency', '1'], env), startChurn(['worker', '--concurrency', '1'], env));
    await Promise.all(processes.map((p) => p.waitFor('ready')));
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    server.httpServer?.closeAllConnections();
    await server.close();
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('commits a run enqueued twice at once, with each row exactly once, matching embedded mode', async () => {
    const runArgs = ['run', '--dataset', 's3://data/customers', '--model', 's3://models/churn-mlp', '--output', 's3://scores/churn', '--shard-rows', '4000', '--wait', '--timeout', '100'];
    const [a, b] = await Promise.all([churn(runArgs, { env }), churn(runArgs, { env })]);
    expect(a.stderr).not.toMatch(/error/i);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.summary).toMatchObject({ runId: `churn-mlp-1.0.0_${AS_OF}`, state: 'committed' });
    const result = a.summary!['result'] as Record<string, number>;
    expect(result['rowsRead']).toBe(20000);
    expect(result['rowsScored']! + result['rowsQuarantined']! + result['rowsIneligible']!).toBe(20000);

    // One set of jobs: one plan, one commit, and one shard job per shard.
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    const shardJobs = (await redis.keys(`${prefix}:churn-shards:shard__*`)).filter((k) => /__\d{5}$/.test(k));
    const planJobs = (await redis.keys(`${prefix}:churn-runs:plan__*`)).filter((k) => !k.includes(':', k.indexOf('plan__')));
    await redis.quit();
    expect(shardJobs).toHaveLength(result['shards']!);
    expect(planJobs).toHaveLength(1);

    const query = 'SELECT customer_id, score, risk_band, reason_1 FROM scores ORDER BY customer_id';
    const distributed = await churn(['query', query, '--scores', 's3://scores/churn', '--json'], { env });
    expect(distributed.code).toBe(0);
    const local = path.join(dir, 'embedded');
    expect((await churn(['score', '--input', 's3://data/customers', '--model', 's3://models/churn-mlp', '--output', local, '--device', 'cpu'], { env })).code).toBe(0);
    const embedded = await churn(['query', query, '--scores', local, '--json']);
    const rows = distributed.stdout.trim().split('\n');
    expect(rows).toHaveLength(result['rowsScored']!);
    expect(new Set(rows.map((r) => (JSON.parse(r) as { customer_id: string }).customer_id)).size).toBe(rows.length);
    expect(rows).toEqual(embedded.stdout.trim().split('\n'));

    const status = await churn(['status', `churn-mlp-1.0.0_${AS_OF}`], { env });
    expect(JSON.parse(status.stdout.trim())).toMatchObject({ state: 'committed' });
  });
});
