/**
 * No hangs (issue 7): with Redis or S3 unreachable (a closed loopback port, or a server that
 * accepts and never answers), every command that needs them exits non-zero within 15 s with
 * an error naming host and port, and never prints the Redis password. Default settings, except
 * where a test says otherwise.
 */
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { churn, freePort, type CliRun } from './support/churn-cli';
import { deleteQueueKeys } from './support/queue-keys';
import { startSilentServer } from './support/silent-server';

/** The bound on failing when a service is unreachable, start-up of the binary included. */
const BOUND_MS = 15_000;

async function timed(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun & { ms: number }> {
  const started = Date.now();
  const run = await churn(args, { env, timeoutMs: 60_000 });
  return { ...run, ms: Date.now() - started };
}

describe('commands with Redis unreachable', () => {
  let dir: string;
  let data: string;
  let deadPort: number;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-unreachable-'));
    data = path.join(dir, 'data');
    expect((await churn(['synth', '--customers', '500', '--as-of', '2026-10-01', '--out', data, '--seed', '4'])).code).toBe(0);
    deadPort = await freePort();
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('churn status, run, schedule list, worker and producer exit with QUEUE_UNAVAILABLE within 15 s, naming host and port', async () => {
    const env = { REDIS_URL: `redis://127.0.0.1:${deadPort}` };
    const commands = [['status'], ['run', '--dataset', data, '--output', path.join(dir, 'scores')], ['schedule', 'list'], ['worker', '--concurrency', '1'], ['producer']];
    for (const args of commands) {
      const run = await timed(args, env);
      expect({ args, code: run.code }).toEqual({ args, code: 14 });
      expect(run.stderr).toContain(`error [QUEUE_UNAVAILABLE]: Redis at redis://127.0.0.1:${deadPort} is not reachable`);
      expect(run.stderr).toContain(`ECONNREFUSED 127.0.0.1:${deadPort}`);
      expect(run.ms).toBeLessThan(BOUND_MS);
    }
  });

  it('never prints the password of REDIS_URL, well-formed or not', async () => {
    for (const url of [`redis://user:s3cret@127.0.0.1:${deadPort}`, `redis://user:s3c/ret@127.0.0.1:${deadPort}`]) {
      for (const args of [['status'], ['worker', '--concurrency', '1']]) {
        const run = await timed(args, { REDIS_URL: url, CHURN_CONNECT_TIMEOUT_MS: '1000' });
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(/error \[(QUEUE_UNAVAILABLE|INVALID_ARGUMENT)\]/);
        expect(`${run.stdout}${run.stderr}`).not.toContain('s3c');
      }
    }
  });

  it('gives up on a Redis that accepts connections but never answers, within the configured bound', async () => {
    const silent = await startSilentServer();
    try {
      const run = await timed(['status'], { REDIS_URL: `redis://127.0.0.1:${silent.port}`, CHURN_CONNECT_TIMEOUT_MS: '2000' });
      expect(run.code).toBe(14);
      expect(run.stderr).toMatch(new RegExp(`error \\[QUEUE_UNAVAILABLE\\]: Redis at redis://127\\.0\\.0\\.1:${silent.port} is not reachable \\([^)]+, waited up to 2000 ms\\): no connection within 2000 ms`));
      expect(run.ms).toBeLessThan(BOUND_MS);
    } finally {
      await silent.close();
    }
  });
});

describe('commands with S3 unreachable', () => {
  let dir: string;
  const s3env = (port: number) => ({ AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' });

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-unreachable-s3-'));
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('fails with IO_ERROR naming the endpoint within 15 s when nothing listens', async () => {
    const port = await freePort();
    const run = await timed(['score', '--input', 's3://data/customers', '--output', path.join(dir, 'a'), '--device', 'cpu'], s3env(port));
    expect(run.code).toBe(13);
    expect(run.stderr).toContain(`error [IO_ERROR]: cannot list s3://data/customers at 127.0.0.1:${port}:`);
    expect(run.ms).toBeLessThan(BOUND_MS);
  });

  it('fails with IO_ERROR naming the endpoint within 15 s when the endpoint never answers', async () => {
    const silent = await startSilentServer();
    try {
      const run = await timed(['score', '--input', 's3://data/customers', '--output', path.join(dir, 'b'), '--device', 'cpu'], { ...s3env(silent.port), CHURN_S3_REQUEST_TIMEOUT_MS: '1000' });
      expect(run.code).toBe(13);
      expect(run.stderr).toContain(`cannot list s3://data/customers at 127.0.0.1:${silent.port}: TimeoutError`);
      expect(run.ms).toBeLessThan(BOUND_MS);
    } finally {
      await silent.close();
    }
  });
});

describe('churn worker and churn producer --metrics-port on a port already in use', () => {
  it('exit at start with IO_ERROR naming the port', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
    const port = (holder.address() as net.AddressInfo).port;
    const prefix = `churn-e2e-port-${process.pid}`;
    try {
      for (const args of [['worker', '--concurrency', '1'], ['producer']]) {
        const run = await timed([...args, '--metrics-port', String(port)], { REDIS_URL: 'redis://127.0.0.1:6379', CHURN_QUEUE_PREFIX: prefix });
        expect({ args, code: run.code }).toEqual({ args, code: 13 });
        expect(run.stderr).toContain(`error [IO_ERROR]: cannot serve metrics on port ${port}: it is already in use; choose another port or stop the process holding it (see --metrics-port)`);
        // Logs go to stdout: nothing there may say it got ready.
        expect(`${run.stdout}${run.stderr}`).not.toContain('ready:');
      }
    } finally {
      await new Promise((resolve) => holder.close(resolve));
      await deleteQueueKeys(prefix);
    }
  });
});
