/**
 * Structured logs (issue 12): a worker (CHURN_LOG_FORMAT=json) and a producer (no setting: its
 * stdout is a pipe, so JSON by default) score a distributed run on a real, password-protected
 * redis-server of the test's own, under a private key prefix. Every line either writes to stdout
 * is one JSON object with a level label, an ISO time and msg; the shard-job lines carry the run,
 * attempt, shard and model; and the Redis password, raw or percent-encoded, is in no line of any
 * process, stdout or stderr.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { z } from 'zod';
import { runStatusSchema } from '@churn/jobs';
import { churn, freePort, startChurn, type ChurnProcess } from './support/churn-cli';
import { startRedis, stopRedis } from './support/redis-server';

/** What every log line must be; the rest of its fields are free. */
const logLineSchema = z.looseObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
    time: z.string().refine((t) => new Date(t).toISOString() === t, 'an ISO 8601 UTC time'),
    msg: z.string().min(1),
    name: z.enum(['churn-worker', 'churn-producer']),
    pid: z.number().int(),
    runId: z.string().optional(),
    attempt: z.number().int().optional(),
    shard: z.number().int().optional(),
    model: z.string().optional(),
    jobId: z.string().optional(),
});
type LogLine = z.infer<typeof logLineSchema>;

/** Every stdout line parsed and checked; a line that is not a log line fails the test, named. */
function logLines(p: ChurnProcess): LogLine[] {
  return p
    .stdout()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
      const parsed = logLineSchema.safeParse(value);
      if (!parsed.success) throw new Error(`not a log line (${parsed.error.message}): ${line}`);
      return parsed.data;
    });
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('structured logs of the worker and the producer', () => {
  // Characters a URL must percent-encode, so both the raw and the encoded form could leak.
  const password = 'Lg!s3cr/t@p:w%rd';
  const prefix = `churn-e2e-logs-${process.pid}-${Date.now()}`;
  const processes: ChurnProcess[] = [];
  let dir: string;
  let redis: ChildProcess;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-logs-'));
    const port = await freePort();
    redis = await startRedis(port, undefined, [], ['--requirepass', password]);
    env = {
      REDIS_URL: `redis://default:${encodeURIComponent(password)}@127.0.0.1:${port}`,
      CHURN_QUEUE_PREFIX: prefix,
      CHURN_ALLOWED_LOCATIONS: `file://${dir}/,file://${path.resolve(__dirname, '..', '..', '..', 'models')}/`,
    };
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    if (redis) await stopRedis(redis);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes one JSON object per line with level, time and msg; shard lines name run, attempt, shard and model; never the password', async () => {
    const data = path.join(dir, 'data');
    expect((await churn(['synth', '--customers', '6000', '--as-of', '2026-05-01', '--out', data, '--files', '2', '--seed', '7'])).code).toBe(0);
    const worker = startChurn(['worker', '--concurrency', '1', '--device', 'cpu'], { ...env, CHURN_LOG_FORMAT: 'json' });
    const producer = startChurn(['producer'], env);
    processes.push(worker, producer);
    await Promise.all([worker.waitFor('worker ready'), producer.waitFor('producer ready')]);

    const run = await churn(['run', '--dataset', data, '--output', path.join(dir, 'scores'), '--shard-rows', '2000', '--explain', 'none', '--wait', '--timeout', '100'], { env });
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    const status = runStatusSchema.parse(JSON.parse(run.stdout.trim().split('\n').at(-1)!));
    const shards = status.summary!.shards;
    expect(shards).toBeGreaterThan(1);
    // The lines of the run's end are written as the processes hear the jobs finish.
    await producer.waitFor(`committed `);
    await until(`${shards} shard done lines`, () => logLines(worker).filter((l) => / done: /.test(l.msg)).length === shards);

    const workerLines = logLines(worker);
    const producerLines = logLines(producer);
    expect(workerLines.every((l) => l.name === 'churn-worker')).toBe(true);
    expect(producerLines.every((l) => l.name === 'churn-producer')).toBe(true);
    expect(workerLines.find((l) => l.msg.startsWith('worker ready: '))).toMatchObject({ level: 'info', queue: `${prefix}:churn-shards`, concurrency: 1, device: 'cpu' });

    const model = 'churn-mlp-1.0.0';
    const shardLines = workerLines.filter((l) => l.msg.startsWith('shard job '));
    // A start and an end per shard, nothing failed.
    expect(shardLines.map((l) => l.msg.replace(/^shard job \S+ /, '').replace(/:.*| \(.*/, '')).sort()).toEqual([...Array(shards).fill('done'), ...Array(shards).fill('started')]);
    for (const line of shardLines) {
      expect(line).toMatchObject({ level: 'info', runId: status.runId, attempt: status.attempt, model, jobId: expect.stringMatching(/^shard__/) });
      expect(line.msg).toContain(line.jobId);
    }
    expect(new Set(shardLines.map((l) => l.shard))).toEqual(new Set(Array.from({ length: shards }, (_, i) => i)));
    expect(workerLines.find((l) => l.msg.startsWith(`run ${status.runId}: starting 1 scoring thread(s)`))).toMatchObject({ runId: status.runId, attempt: status.attempt, model });
    expect(producerLines.find((l) => l.msg.startsWith(`planned run ${status.runId}`))).toMatchObject({ runId: status.runId, attempt: status.attempt, model, shards });
    expect(producerLines.find((l) => l.msg.startsWith('committed '))).toMatchObject({ runId: status.runId, attempt: status.attempt, model, rowsScored: status.summary!.rowsScored });

    // Stopping logs too (the drain), still as JSON lines.
    await Promise.all([worker.stop(), producer.stop()]);
    await until('the drain line', () => logLines(worker).some((l) => l.msg === 'shutting down: finishing active shard jobs (0)'));

    for (const output of [worker.log(), producer.log(), run.stdout, run.stderr]) {
      expect(output).not.toContain(password);
      expect(output).not.toContain(encodeURIComponent(password));
    }
  });
});
