/**
 * Distributed mode survives what dies along the way (issue 4, tests 2 and 3): a worker killed
 * with SIGKILL mid-shard (its shard is taken over after stall detection, with short settings
 * here), and a Redis restart mid-run (a private redis-server on its own port, with an
 * append-only file so the restart keeps the queues). Each row lands exactly once.
 */
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runStatusSchema, type RunStatus } from '@churn/jobs';
import { churn, freePort, startChurn, type ChurnProcess } from './support/churn-cli';
import { startRedis, stopRedis } from './support/redis-server';

const statusOf = (stdout: string): RunStatus => runStatusSchema.parse(JSON.parse(stdout.trim().split('\n').at(-1)!));

async function countRows(output: string): Promise<{ n: number; d: number }> {
  const q = await churn(['query', 'SELECT count(*) AS n, count(DISTINCT customer_id) AS d FROM scores', '--scores', output, '--json']);
  return JSON.parse(q.stdout.trim()) as { n: number; d: number };
}

describe('distributed runs survive a killed worker and a Redis restart', () => {
  let dir: string;
  let redis: ChildProcess;
  let port: number;
  let env: NodeJS.ProcessEnv;
  const processes: ChurnProcess[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-recovery-'));
    await fs.mkdir(path.join(dir, 'redis'));
    port = await freePort();
    redis = await startRedis(port, path.join(dir, 'redis'));
    env = { REDIS_URL: `redis://127.0.0.1:${port}`, CHURN_QUEUE_PREFIX: 'recovery', CHURN_LOCK_DURATION_MS: '3000', CHURN_STALLED_INTERVAL_MS: '1000', CHURN_ALLOWED_LOCATIONS: `file://${dir}/,file://${path.resolve(__dirname, '..', '..', '..', 'models')}/` };
    processes.push(startChurn(['producer'], env));
    await processes[0]!.waitFor('ready');
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await stopRedis(redis);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('takes over the shard of a worker killed with SIGKILL, and commits each row once', async () => {
    const data = path.join(dir, 'killed');
    expect((await churn(['synth', '--customers', '60000', '--as-of', '2026-09-01', '--out', data, '--files', '6', '--seed', '9'])).code).toBe(0);
    const victim = startChurn(['worker', '--concurrency', '1'], env);
    processes.push(victim);
    await victim.waitFor('ready');
    const output = path.join(dir, 'killed-scores');
    const waiting = churn(['run', '--dataset', data, '--output', output, '--shard-rows', '5000', '--wait', '--timeout', '100'], { env });
    await victim.waitFor('starting 1 scoring thread(s)', 30_000);
    await victim.stop('SIGKILL');
    const survivor = startChurn(['worker', '--concurrency', '1'], env);
    processes.push(survivor);
    const run = await waiting;
    expect(run.code).toBe(0);
    const result = statusOf(run.stdout).summary!;
    expect(result.rowsRead).toBe(60000);
    expect(await countRows(output)).toEqual({ n: result.rowsScored, d: result.rowsScored });
  });

  it('reconnects producer and workers after Redis restarts mid-run, and commits', async () => {
    const data = path.join(dir, 'restart');
    expect((await churn(['synth', '--customers', '60000', '--as-of', '2026-09-02', '--out', data, '--files', '6', '--seed', '10'])).code).toBe(0);
    const worker = processes.at(-1)!;
    const output = path.join(dir, 'restart-scores');
    const enqueued = await churn(['run', '--dataset', data, '--output', output, '--shard-rows', '5000'], { env });
    expect(enqueued.code).toBe(0);
    await worker.waitFor('_2026-09-02_', 30_000);
    await stopRedis(redis);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    redis = await startRedis(port, path.join(dir, 'redis'));
    const run = await churn(['run', '--dataset', data, '--output', output, '--shard-rows', '5000', '--wait', '--timeout', '100'], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/attempt 1 is already (running|queued); nothing added/);
    const result = statusOf(run.stdout).summary!;
    expect(result.rowsRead).toBe(60000);
    expect(await countRows(output)).toEqual({ n: result.rowsScored, d: result.rowsScored });
  });
});
