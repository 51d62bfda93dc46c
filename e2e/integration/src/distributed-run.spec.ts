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
import { exitCodeOf } from '@churn/errors';
import { runStatusSchema, type RunStatus } from '@churn/jobs';
import { churn, DEFAULT_BUNDLE, freePort, startChurn, type ChurnProcess } from './support/churn-cli';

/** The run status `churn run --wait`, `status` and `resume --wait` print last. */
const statusOf = (stdout: string): RunStatus => runStatusSchema.parse(JSON.parse(stdout.trim().split('\n').at(-1)!));
const MODELS = path.resolve(__dirname, '..', '..', '..', 'models');

const AS_OF = '2026-07-01';

describe('distributed scoring over Redis and S3', () => {
  let dir: string;
  let server: S3rver;
  let env: NodeJS.ProcessEnv;
  const processes: ChurnProcess[] = [];
  const prefix = `churn-e2e-${process.pid}-${Date.now()}`;
  let metricsPort: number;

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
    metricsPort = await freePort();
    processes.push(startChurn(['producer'], env), startChurn(['worker', '--concurrency', '1', '--metrics-port', String(metricsPort)], env), startChurn(['worker', '--concurrency', '1'], env));
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
    const status = statusOf(a.stdout);
    expect(status).toMatchObject({ state: 'committed', attempt: 1 });
    expect(status.runId).toMatch(new RegExp(`^churn-mlp-1\\.0\\.0_${AS_OF}_[0-9a-f]{12}$`));
    expect(statusOf(b.stdout).runId).toBe(status.runId);
    const result = status.summary!;
    expect(result.rowsRead).toBe(20000);
    expect(result.rowsScored + result.rowsQuarantined + result.rowsIneligible).toBe(20000);

    // One set of jobs: one plan, one commit, and one shard job per shard.
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    const shardJobs = (await redis.keys(`${prefix}:churn-shards:shard__*`)).filter((k) => /__\d{5}$/.test(k));
    const planJobs = (await redis.keys(`${prefix}:churn-runs:plan__*`)).filter((k) => !k.includes(':', k.indexOf('plan__')));
    await redis.quit();
    expect(shardJobs).toHaveLength(result.shards);
    expect(planJobs).toHaveLength(1);

    const query = 'SELECT customer_id, score, risk_band, reason_1 FROM scores ORDER BY customer_id';
    const distributed = await churn(['query', query, '--scores', 's3://scores/churn', '--json'], { env });
    expect(distributed.code).toBe(0);
    const local = path.join(dir, 'embedded');
    expect((await churn(['score', '--input', 's3://data/customers', '--model', 's3://models/churn-mlp', '--output', local, '--device', 'cpu'], { env })).code).toBe(0);
    const embedded = await churn(['query', query, '--scores', local, '--json']);
    const rows = distributed.stdout.trim().split('\n');
    expect(rows).toHaveLength(result.rowsScored);
    expect(new Set(rows.map((r) => (JSON.parse(r) as { customer_id: string }).customer_id)).size).toBe(rows.length);
    expect(rows).toEqual(embedded.stdout.trim().split('\n'));

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/churn_worker_rows_total\{model_name="churn-mlp",model_version="1.0.0",outcome="scored"\} [1-9]/);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);

    const one = await churn(['status', status.runId], { env });
    expect(statusOf(one.stdout)).toMatchObject({ state: 'committed' });
    const table = await churn(['status'], { env });
    expect(table.stdout).toMatch(new RegExp(`${status.runId.replace(/\./g, '\\.')}\\s+1\\s+committed\\s+\\d+\\s+20000`));
  });
});

describe('distributed runs that fail, resume and shut down', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const processes: ChurnProcess[] = [];
  const prefix = `churn-e2e-fail-${process.pid}-${Date.now()}`;
  const asOf = '2026-08-01';

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-dist-fail-'));
    env = { REDIS_URL: 'redis://127.0.0.1:6379', CHURN_QUEUE_PREFIX: prefix, CHURN_ALLOWED_LOCATIONS: `file://${dir}/,file://${MODELS}/` };
    processes.push(startChurn(['producer'], env), startChurn(['worker', '--concurrency', '1'], env));
    await Promise.all(processes.map((p) => p.waitFor('ready')));
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('fails only the shard of the broken file without retries, names it, and resume scores just that shard', async () => {
    const data = path.join(dir, 'dirty');
    // --dirty writes tenure_days as strings in the last file: a schema break, bad input for its shard only.
    expect((await churn(['synth', '--customers', '9000', '--as-of', asOf, '--out', data, '--files', '3', '--dirty', '0.01', '--seed', '4'])).code).toBe(0);
    const output = path.join(dir, 'scores');
    const run = await churn(['run', '--dataset', data, '--output', output, '--wait', '--timeout', '60'], { env });
    expect(run.code).toBe(exitCodeOf('RUN_FAILED'));
    const failedRun = statusOf(run.stdout);
    expect(failedRun).toMatchObject({ state: 'failed', stage: 'scoring' });
    const failed = failedRun.failedShards!;
    expect(failed).toHaveLength(1);
    expect(failed[0]!.file).toMatch(/part-00002\.parquet$/);
    expect(failed[0]!.error.code).toBe('CONTRACT_VIOLATION');
    expect(failed[0]!.error.message).toMatch(/part-00002\.parquet.*tenure_days: wrong_type .*has Arrow type Utf8/);
    expect(failed[0]!.error.settings).toEqual(['maxBadRowFraction']);
    const partition = path.join(output, `as_of=${asOf}`, 'model=churn-mlp-1.0.0');
    await expect(fs.stat(path.join(partition, '_SUCCESS'))).rejects.toThrow();
    // No retries of bad input: the failed shard ran once.
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    const attempts = await redis.hget(`${prefix}:churn-shards:shard__${failedRun.runId}__a1__${String(failed[0]!.index).padStart(5, '0')}`, 'atm');
    await redis.quit();
    expect(Number(attempts ?? 1)).toBe(1);

    // Replace the broken file with a clean export of the same customers, and resume.
    const clean = path.join(dir, 'clean');
    expect((await churn(['synth', '--customers', '9000', '--as-of', asOf, '--out', clean, '--files', '3', '--seed', '4'])).code).toBe(0);
    await fs.copyFile(path.join(clean, `as_of=${asOf}`, 'part-00002.parquet'), path.join(data, `as_of=${asOf}`, 'part-00002.parquet'));
    const resumed = await churn(['resume', failedRun.runId, '--wait', '--timeout', '60'], { env });
    expect(resumed.stderr).toMatch(new RegExp(`as attempt 2: re-enqueued shard\\(s\\) ${failed[0]!.index}$`, 'm'));
    expect(resumed.code).toBe(0);
    const result = statusOf(resumed.stdout).summary!;
    expect(result).toMatchObject({ rowsRead: 9000, attempt: 2 });
    expect(result.rowsScored + result.rowsQuarantined + result.rowsIneligible).toBe(9000);
    await expect(fs.stat(path.join(partition, '_SUCCESS'))).resolves.toBeDefined();
    const q = await churn(['query', 'SELECT count(*) AS n, count(DISTINCT customer_id) AS d FROM scores', '--scores', output, '--json']);
    expect(JSON.parse(q.stdout.trim())).toEqual({ n: result.rowsScored, d: result.rowsScored });
  });

  it('runs the newest partition on each schedule tick, and lists and removes schedules', async () => {
    const data = path.join(dir, 'scheduled');
    for (const day of ['2026-10-01', '2026-10-02']) {
      expect((await churn(['synth', '--customers', '3000', '--as-of', day, '--out', data, '--files', '1'])).code).toBe(0);
    }
    const output = path.join(dir, 'scheduled-scores');
    const set = await churn(['schedule', 'set', 'nightly', '--cron', '*/1 * * * * *', '--tz', 'Europe/Berlin', '--dataset', data, '--output', output], { env });
    expect(set.code).toBe(0);
    const listed = await churn(['schedule', 'list'], { env });
    expect(JSON.parse(listed.stdout.trim())).toMatchObject({ name: 'nightly', cron: '*/1 * * * * *', tz: 'Europe/Berlin', tick: { asOf: 'latest' } });
    let status: RunStatus | undefined;
    for (let i = 0; i < 120 && status?.state !== 'committed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const lines = (await churn(['status', '--json'], { env })).stdout.trim().split('\n').filter((l) => l.includes('_2026-10-02_'));
      status = lines.length > 0 ? statusOf(lines[0]!) : undefined;
    }
    expect(status).toMatchObject({ state: 'committed', summary: { asOf: '2026-10-02', rowsRead: 3000 } });
    expect((await churn(['schedule', 'remove', 'nightly'], { env })).code).toBe(0);
    expect((await churn(['schedule', 'list'], { env })).stdout.trim()).toBe('');
    const again = await churn(['schedule', 'remove', 'nightly'], { env });
    expect(again.code).toBe(exitCodeOf('INPUT_NOT_FOUND'));
    expect(again.stderr).toMatch(/no schedule named "nightly"/);
  });

  it('backfills every partition in a date range, one run at a time, and nothing outside it', async () => {
    const data = path.join(dir, 'history');
    for (const day of ['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-10']) {
      expect((await churn(['synth', '--customers', '2000', '--as-of', day, '--out', data, '--files', '1', '--seed', day.slice(-2)])).code).toBe(0);
    }
    const output = path.join(dir, 'history-scores');
    const run = await churn(['backfill', '--from', '2026-05-01', '--to', '2026-05-03', '--dataset', data, '--output', output, '--max-concurrent-runs', '1'], { env });
    expect(run.stderr).toMatch(/backfill: 3 of 3 run\(s\) committed/);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map(statusOf);
    expect(lines.map((l) => [l.runId.slice(0, -13), l.state])).toEqual(['01', '02', '03'].map((d) => [`churn-mlp-1.0.0_2026-05-${d}`, 'committed']));
    const dates = await churn(['query', 'SELECT DISTINCT CAST(as_of AS VARCHAR) AS d FROM scores ORDER BY 1', '--scores', output, '--json']);
    expect(dates.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { d: string }).d)).toEqual(['2026-05-01', '2026-05-02', '2026-05-03']);
  });

  it('finishes the active shard on SIGTERM, exits cleanly, and the run completes on another worker', async () => {
    // Another date: a new run id (the failed-and-resumed run above is committed under its own).
    const data = path.join(dir, 'graceful');
    expect((await churn(['synth', '--customers', '60000', '--as-of', '2026-08-02', '--out', data, '--files', '6', '--seed', '6'])).code).toBe(0);
    const output = path.join(dir, 'graceful-scores');
    const runArgs = ['run', '--dataset', data, '--output', output, '--shard-rows', '5000'];
    const { runId } = JSON.parse((await churn(runArgs, { env })).stdout.trim()) as { runId: string };
    // The same request again is the same run: this one only waits for it.
    const waiting = churn([...runArgs, '--wait', '--timeout', '90'], { env });
    const worker = processes[1]!;
    await worker.waitFor(`run ${runId}: starting 1 scoring thread(s)`, 30_000);
    const progress = statusOf((await churn(['status', runId], { env })).stdout);
    expect(progress).toMatchObject({ state: 'running', progress: { shardsTotal: 6, rowsTotal: 60000 } });
    const exitCode = await worker.stop('SIGTERM');
    expect(exitCode).toBe(0);
    expect(worker.log()).toMatch(/shutting down: finishing active shard jobs/);
    const replacement = startChurn(['worker', '--concurrency', '1'], env);
    processes.push(replacement);
    const run = await waiting;
    expect(run.code).toBe(0);
    const result = statusOf(run.stdout).summary!;
    expect(result.rowsRead).toBe(60000);
    const q = await churn(['query', 'SELECT count(*) AS n, count(DISTINCT customer_id) AS d FROM scores', '--scores', output, '--json']);
    expect(JSON.parse(q.stdout.trim())).toEqual({ n: result.rowsScored, d: result.rowsScored });
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    // No shard of this run failed (the drained one was handed back, not failed).
    const failed = (await redis.zrange(`${prefix}:churn-shards:failed`, 0, -1)).filter((id) => id.includes(runId));
    await redis.quit();
    expect(failed).toEqual([]);
  });
});
