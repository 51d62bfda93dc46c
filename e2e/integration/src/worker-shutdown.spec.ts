/**
 * No hangs (issue 7), for the long-running worker: against a private redis-server that is then
 * killed, `/healthz` goes 503 while `/livez` stays 200, and SIGTERM ends the worker within the
 * drain deadline (3 s here), whether it was idle or in the middle of a shard whose result can
 * no longer be saved (that one is abandoned, named in the log, with the TIMEOUT exit code).
 */
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { churn, DEFAULT_BUNDLE, freePort, startChurn, type ChurnProcess } from './support/churn-cli';
import { startRedis, stopRedis } from './support/redis-server';

const DRAIN_MS = 3_000;
/** The drain deadline plus a generous margin for a loaded host. */
const EXIT_BOUND_MS = DRAIN_MS + 12_000;

async function statusOf(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/** Polls `url` until it answers `status` (or gives up after `timeoutMs`). */
async function waitForStatus(url: string, status: number, timeoutMs = 20_000): Promise<{ status: number; body: unknown }> {
  const started = Date.now();
  for (;;) {
    const seen = await statusOf(url).catch(() => ({ status: -1, body: undefined }));
    if (seen.status === status || Date.now() - started > timeoutMs) return seen;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stopTimed(process: ChurnProcess): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const code = await process.stop('SIGTERM');
  return { code, ms: Date.now() - started };
}

describe('a worker whose Redis dies', () => {
  let dir: string;
  let redis: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;
  const processes: ChurnProcess[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-shutdown-'));
    const port = await freePort();
    env = {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      CHURN_QUEUE_PREFIX: 'shutdown',
      CHURN_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
      CHURN_ALLOWED_LOCATIONS: `file://${dir}/,file://${path.dirname(DEFAULT_BUNDLE)}/`,
    };
    redis = await startRedis(port);
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    if (redis) await stopRedis(redis, 'SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reports not ready while Redis is down, stays live, and exits on SIGTERM within the drain deadline', async () => {
    const metricsPort = await freePort();
    const worker = startChurn(['worker', '--concurrency', '1', '--metrics-port', String(metricsPort)], env);
    processes.push(worker);
    await worker.waitFor('worker ready');
    const base = `http://127.0.0.1:${metricsPort}`;
    expect(await waitForStatus(`${base}/healthz`, 200)).toEqual({ status: 200, body: { ready: true, conditions: { accepting: true, redis: true, model: true } } });

    await stopRedis(redis!, 'SIGKILL');
    expect(await waitForStatus(`${base}/healthz`, 503)).toEqual({ status: 503, body: { ready: false, conditions: { accepting: true, redis: false, model: true } } });
    expect(await statusOf(`${base}/livez`)).toEqual({ status: 200, body: { live: true } });
    expect(worker.log()).toContain('lost Redis at redis://127.0.0.1:');

    const stopped = await stopTimed(worker);
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(EXIT_BOUND_MS);
    expect(worker.log()).toContain('shutting down: Redis is unreachable and no shard job is active');
  });

  it('abandons the shard it is scoring when Redis dies, at the drain deadline, with the TIMEOUT exit code', async () => {
    // A fresh server on the same port (the test before killed it; when run alone, it is still up).
    if (redis) await stopRedis(redis, 'SIGKILL');
    redis = await startRedis(Number(new URL(env['REDIS_URL']!).port));
    const data = path.join(dir, 'data');
    expect((await churn(['synth', '--customers', '100000', '--as-of', '2026-10-02', '--out', data, '--files', '1', '--seed', '12'])).code).toBe(0);
    const producer = startChurn(['producer'], env);
    const worker = startChurn(['worker', '--concurrency', '1'], env);
    processes.push(producer, worker);
    await Promise.all([producer.waitFor('ready'), worker.waitFor('worker ready')]);
    expect((await churn(['run', '--dataset', data, '--output', path.join(dir, 'scores'), '--shard-rows', '100000'], { env })).code).toBe(0);
    // The shard job is active from here on, and cannot be completed once Redis is gone.
    await worker.waitFor('scoring thread(s)', 60_000);
    await stopRedis(redis, 'SIGKILL');

    const stopped = await stopTimed(worker);
    expect(worker.log()).toMatch(/shutting down: finishing active shard jobs \(1\)/);
    expect(worker.log()).toMatch(new RegExp(`drain deadline of ${DRAIN_MS} ms passed: abandoned shard job shard__\\S+__00000 \\(its lock expires and another worker scores it\\)`));
    expect(stopped.code).toBe(23);
    expect(stopped.ms).toBeLessThan(EXIT_BOUND_MS);
  });
});
