/**
 * Issue 7's dead ends, against the real Redis (a private key prefix), s3rver and local files: a run is
 * identified by what determines its output, so two datasets into two outputs on the same date
 * and model are two runs; a run that failed at planning can be run (or resumed) again once its
 * input is fixed; a bad setting is refused with exit 2 before anything reaches Redis; `--wait`
 * reports its own run; a worker whose scoring thread crashed on a damaged file goes on scoring
 * healthy shards; forged jobs in Redis are refused.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FlowProducer, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import S3rver from 's3rver';
import { readParquetBytes, writeParquetTable } from '@churn/arrow-io';
import { exitCodeOf } from '@churn/errors';
import { commitJobSchema, jobIds, QUEUES, runStatusSchema, type RunStatus } from '@churn/jobs';
import { parsePlan, runIdOf } from '@churn/scoring';
import { churn, startChurn, type ChurnProcess } from './support/churn-cli';

const AS_OF = '2026-07-15';

describe('distributed runs: one identity, no dead ends', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const prefix = `churn-e2e-id-${process.pid}-${Date.now()}`;
  const processes: ChurnProcess[] = [];
  let worker: ChurnProcess;
  let s3: S3rver;

  const statusOf = (stdout: string): RunStatus => runStatusSchema.parse(JSON.parse(stdout.trim().split('\n').at(-1)!));
  const redisKeys = async () => {
    const redis = new Redis({ host: '127.0.0.1', port: 6379 });
    try {
      // A running worker's stalled-jobs check sets and expires `stalled-check` on its own clock:
      // housekeeping, not something a refused command wrote.
      return (await redis.keys(`${prefix}:*`)).filter((key) => !key.endsWith(':stalled-check'));
    } finally {
      await redis.quit();
    }
  };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-identity-'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(dir, 's3'), configureBuckets: [{ name: 'ident' }] });
    const { port } = await s3.run();
    env = {
      REDIS_URL: 'redis://127.0.0.1:6379',
      CHURN_QUEUE_PREFIX: prefix,
      CHURN_ALLOWED_LOCATIONS: `file://${dir}/,file://${path.resolve(__dirname, '..', '..', '..', 'models')}/,s3://ident/`,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    };
    worker = startChurn(['worker', '--concurrency', '1'], env);
    processes.push(startChurn(['producer'], env), worker);
    await Promise.all(processes.map((p) => p.waitFor('ready')));
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    s3.httpServer?.closeAllConnections();
    await s3.close();
    const keys = await redisKeys();
    if (keys.length > 0) {
      const redis = new Redis({ host: '127.0.0.1', port: 6379 });
      await redis.del(...keys);
      await redis.quit();
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('scores dataset A into O1 (local files) and dataset B into O2 (S3), same model and date, as two runs, each --wait reporting its own', async () => {
    const data = { a: path.join(dir, 'a'), b: 's3://ident/customers-b' };
    const output = { o1: path.join(dir, 'o1'), o2: 's3://ident/scores-o2' };
    for (const [name, customers, seed] of [['a', 3000, 1], ['b', 2000, 2]] as const) {
      expect((await churn(['synth', '--customers', String(customers), '--as-of', AS_OF, '--out', data[name], '--seed', String(seed), '--files', '2'], { env })).code).toBe(0);
    }
    const [a, b] = await Promise.all([
      churn(['run', '--dataset', data.a, '--output', output.o1, '--device', 'cpu', '--wait', '--timeout', '100'], { env }),
      churn(['run', '--dataset', data.b, '--output', output.o2, '--device', 'cpu', '--wait', '--timeout', '100'], { env }),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const [sa, sb] = [statusOf(a.stdout), statusOf(b.stdout)];
    expect(sa.runId).not.toBe(sb.runId);
    expect(sa).toMatchObject({ state: 'committed', summary: { rowsRead: 3000, output: expect.stringContaining('/o1/') } });
    expect(sb).toMatchObject({ state: 'committed', summary: { rowsRead: 2000, output: expect.stringContaining('s3://ident/scores-o2/') } });
    for (const [out, s] of [[output.o1, sa], [output.o2, sb]] as const) {
      const q = await churn(['query', 'SELECT count(*) AS n, min(run_id) AS run FROM scores', '--scores', out, '--json'], { env });
      expect(JSON.parse(q.stdout.trim())).toEqual({ n: s.summary!.rowsScored, run: s.runId });
    }
    // The same request again is the same run: nothing is added.
    const again = await churn(['run', '--dataset', data.a, '--output', output.o1, '--device', 'cpu'], { env });
    expect(JSON.parse(again.stdout.trim())).toMatchObject({ runId: sa.runId, attempt: 1, enqueued: false, state: 'committed' });
  });

  it('refuses a bad setting with exit 2 before anything reaches Redis', async () => {
    const before = await redisKeys();
    const run = await churn(['run', '--dataset', path.join(dir, 'a'), '--output', path.join(dir, 'o3'), '--explain', 'band:hihg'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error \[INVALID_ARGUMENT\]: .*unknown risk band "hihg".* \(see --explain\)$/m);
    const cron = await churn(['schedule', 'set', 'bad', '--cron', '61 * * * *', '--dataset', path.join(dir, 'a'), '--output', path.join(dir, 'o3')], { env });
    expect(cron.code).toBe(2);
    expect(cron.stderr).toMatch(/is not a valid cron expression .* \(see --cron\)/);
    const device = await churn(['backfill', '--from', AS_OF, '--to', AS_OF, '--dataset', path.join(dir, 'a'), '--output', path.join(dir, 'o3'), '--device', 'tpu'], { env });
    expect(device.code).toBe(2);
    expect((await redisKeys()).sort()).toEqual(before.sort());
  });

  it('runs a run that failed at planning again once its input is fixed, via churn run and via churn resume', async () => {
    for (const mode of ['run', 'resume'] as const) {
      const data = path.join(dir, `planning-${mode}`);
      expect((await churn(['synth', '--customers', '1000', '--as-of', AS_OF, '--out', data, '--files', '1', '--seed', '3'])).code).toBe(0);
      const file = path.join(data, `as_of=${AS_OF}`, 'part-00000.parquet');
      const good = await fs.readFile(file);
      const table = readParquetBytes(good);
      await fs.writeFile(file, writeParquetTable(table.select(table.schema.fields.map((f) => f.name).filter((n) => n !== 'nps'))));
      const args = ['run', '--dataset', data, '--output', path.join(dir, `planning-${mode}-out`), '--device', 'cpu', '--wait', '--timeout', '60'];
      const failed = await churn(args, { env });
      expect(failed.code).toBe(exitCodeOf('RUN_FAILED'));
      const status = statusOf(failed.stdout);
      expect(status).toMatchObject({ state: 'failed', stage: 'planning', attempt: 1, error: { code: 'CONTRACT_VIOLATION' } });
      expect(status.error!.message).toMatch(/has no column "nps"/);
      await fs.writeFile(file, good);
      const fixed = mode === 'run' ? await churn(args, { env }) : await churn(['resume', status.runId, '--wait', '--timeout', '60'], { env });
      expect(fixed.stderr).not.toMatch(/already/);
      expect(fixed.code).toBe(0);
      expect(statusOf(fixed.stdout)).toMatchObject({ runId: status.runId, attempt: 2, state: 'committed', summary: { rowsRead: 1000, attempt: 2 } });
    }
  });

  it('keeps a worker scoring healthy shards after its scoring thread crashed on a damaged file', async () => {
    const data = path.join(dir, 'damaged');
    expect((await churn(['synth', '--customers', '6000', '--as-of', AS_OF, '--out', data, '--files', '3', '--seed', '6'])).code).toBe(0);
    const file = path.join(data, `as_of=${AS_OF}`, 'part-00000.parquet');
    const good = await fs.readFile(file);
    // Scrambled bytes in the first column chunks (footer and page indexes intact) make the
    // Parquet decoder trap while it decodes the shard.
    const damaged = Buffer.from(good);
    const footerStart = damaged.length - 8 - damaged.readUInt32LE(damaged.length - 8);
    for (let i = 1024; i < footerStart / 2; i += 7) damaged[i] = (damaged[i]! * 31 + 17) & 255;
    await fs.writeFile(file, damaged);
    const pid = worker.child.pid;
    const run = await churn(['run', '--dataset', data, '--output', path.join(dir, 'damaged-out'), '--device', 'cpu', '--wait', '--timeout', '100'], { env });
    expect(run.code).toBe(exitCodeOf('RUN_FAILED'));
    const status = statusOf(run.stdout);
    expect(status.failedShards).toEqual([expect.objectContaining({ index: 0, error: expect.objectContaining({ code: 'SCORING_THREAD_CRASHED' }) })]);
    expect(worker.child.exitCode).toBeNull();
    expect(worker.child.pid).toBe(pid);
    expect(worker.log()).toMatch(/starting a replacement/);
    // The healthy shards of the same run were scored by this worker after the crash.
    const shards = new Queue(QUEUES.shards, { connection: { host: '127.0.0.1', port: 6379 }, prefix });
    try {
      for (const index of [1, 2]) expect(await (await shards.getJob(jobIds.shard(status.runId, 1, index)))?.getState()).toBe('completed');
    } finally {
      await shards.close();
    }
    await fs.writeFile(file, good);
    const resumed = await churn(['resume', status.runId, '--wait', '--timeout', '100'], { env });
    expect(resumed.stderr).toMatch(/re-enqueued shard\(s\) 0$/m);
    expect(resumed.code).toBe(0);
    expect(statusOf(resumed.stdout).summary).toMatchObject({ rowsRead: 6000, attempt: 2 });
  });

  it('refuses forged jobs: a commit whose plan was altered, and shard jobs outside a run flow', async () => {
    const connection = { host: '127.0.0.1', port: 6379 };
    const commits = new Queue(QUEUES.commits, { connection, prefix });
    const shards = new Queue(QUEUES.shards, { connection, prefix });
    const flows = new FlowProducer({ connection, prefix });
    try {
      // The committed run of dataset A into o1, and its plan, from its commit job.
      const status = runStatusSchema.parse(JSON.parse((await churn(['status', '--json'], { env })).stdout.trim().split('\n').find((l) => l.includes('/o1/'))!));
      const commit = await commits.getJob(jobIds.commit(status.runId, 1));
      const plan = parsePlan(commitJobSchema.parse(commit!.data).plan, 'test');
      const o1 = path.join(dir, 'o1', `as_of=${AS_OF}`, 'model=churn-mlp-1.0.0');
      const before = (await fs.readdir(o1)).sort();
      const success = await fs.readFile(path.join(o1, '_SUCCESS'), 'utf8');

      // 1. The plan's output points at o1, but the run id is another run's: refused at once.
      const forgedOutput = { ...plan, output: `file://${path.join(dir, 'o1')}`, runId: `${plan.runId.slice(0, -12)}000000000000` };
      await commits.add('commit', { plan: forgedOutput, attempt: 1, priorOutcomes: [], startedAt: new Date().toISOString() }, { jobId: 'forged-1' });
      // 2. A self-consistent plan for o1 (its id recomputed), naming shards it never staged.
      const { formatVersion: _v, runId: _r, dataset: _d, execution: _e, shards: _s, plannedAt: _p, ...identity } = plan;
      const other = { ...identity, settings: { ...plan.settings, shardRows: 7 } };
      const consistent = { ...plan, ...other, runId: runIdOf(other) };
      await commits.add('commit', { plan: consistent, attempt: 1, priorOutcomes: [], startedAt: new Date().toISOString() }, { jobId: 'forged-2' });
      // 3. A shard job with no flow parent, and one whose parent plan does not have its shard.
      await shards.add('shard', { runId: plan.runId, attempt: 1, shard: { ...plan.shards[0]!, file: 'file:///etc/passwd' } }, { jobId: 'forged-3', attempts: 1 });
      await flows.add({
        name: 'commit',
        queueName: QUEUES.commits,
        data: { plan, attempt: 9, priorOutcomes: [], startedAt: new Date().toISOString() },
        opts: { jobId: 'forged-4' },
        children: [{ name: 'shard', queueName: QUEUES.shards, data: { runId: plan.runId, attempt: 9, shard: { ...plan.shards[0]!, file: 'file:///etc/passwd' } }, opts: { jobId: 'forged-5', attempts: 1 } }],
      });
      const failedReason = async (queue: Queue, id: string) => {
        for (let i = 0; i < 100; i++) {
          // The state first, then the job: failing writes the state and the reason together, so a
          // job read before a state read could be 'failed' with no reason yet.
          if ((await queue.getJobState(id)) === 'failed') return (await queue.getJob(id))?.failedReason;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        throw new Error(`${id} did not fail`);
      };
      expect(await failedReason(commits, 'forged-1')).toMatch(/does not match its plan .*the payload was altered/);
      expect(await failedReason(commits, 'forged-2')).toMatch(/has 0 of \d+ shard results|does not exist; nothing was published/);
      expect(await failedReason(shards, 'forged-3')).toMatch(/is not part of a run flow/);
      expect(await failedReason(shards, 'forged-5')).toMatch(/describes a shard its run's plan does not have/);
      // The committed table is untouched.
      expect((await fs.readdir(o1)).sort()).toEqual(before);
      expect(await fs.readFile(path.join(o1, '_SUCCESS'), 'utf8')).toBe(success);
    } finally {
      await Promise.all([commits.close(), shards.close(), flows.close()]);
    }
  });
});
