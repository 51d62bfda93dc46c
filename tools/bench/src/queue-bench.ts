import { pathToFileURL } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { createObjectStore, joinUri } from '@churn/object-store';
import { runStatusSchema } from '@churn/jobs';
import { runLocal } from '@churn/scoring';
import { writeSynthDataset } from '@churn/synth-data';
import { nodeFlagsNote, scoringNodeFlags } from './node-flags';

/**
 * `npm run bench:queue` (needs Redis at REDIS_URL or 127.0.0.1:6379): the same 1M-row snapshot
 * scored in embedded mode and through the queue with one and with two worker processes, in one
 * run, reported as rows/s and the queue overhead per shard.
 */
const root = path.resolve(__dirname, '..', '..');
const bin = path.join(root, 'bin', 'churn.js');
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

function start(args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  // The worker and producer log to stdout; a failure to start is on stderr. Both run under the
  // scoring commands' Node flags, as the image starts them.
  const child = spawn(process.execPath, [...scoringNodeFlags(root), bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const hear = (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve(child);
    };
    child.stdout!.on('data', hear);
    child.stderr!.on('data', hear);
    child.on('exit', (code) => reject(new Error(`churn ${args[0]} exited ${code}: ${out}`)));
  });
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`churn ${args[0]} failed: ${err}`))));
  });
}

async function distributed(data: string, output: string, workers: number, threadsEach: number, prefix: string): Promise<{ seconds: number; shards: number; rows: number }> {
  // The workers and the producer may read and write only allowed locations: the bench's folder and the bundles.
  const allowed = [data, output, path.resolve(__dirname, '..', '..', 'models')].map((uri) => `${pathToFileURL(path.resolve(uri.replace(/^file:\/\//, ''))).href}/`);
  const env = { REDIS_URL: redisUrl, CHURN_QUEUE_PREFIX: prefix, CHURN_ALLOWED_LOCATIONS: allowed.join(',') };
  const processes = await Promise.all([start(['producer'], env), ...Array.from({ length: workers }, () => start(['worker', '--concurrency', String(threadsEach)], env))]);
  try {
    const t0 = performance.now();
    const out = await runCli(['run', '--dataset', data, '--output', output, '--explain', 'none', '--device', 'cpu', '--wait'], env);
    const seconds = (performance.now() - t0) / 1000;
    const status = runStatusSchema.parse(JSON.parse(out.trim().split('\n').at(-1)!));
    if (!status.summary) throw new Error(`run did not commit: ${JSON.stringify(status)}`);
    return { seconds, shards: status.summary.shards, rows: status.summary.rowsRead };
  } finally {
    for (const p of processes) p.kill('SIGTERM');
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  }
}

async function main(): Promise<void> {
  const customers = 1_000_000;
  const dir = path.join(tmpdir(), `churn-bench-${customers}`);
  const data = joinUri(dir, 'snapshots');
  const asOf = '2026-01-01';
  const store = createObjectStore();
  if (!existsSync(path.join(dir, 'snapshots', `as_of=${asOf}`, 'part-00003.parquet'))) await writeSynthDataset(store, data, { customers, asOf, seed: 1, files: 4 });
  const model = path.join(root, 'models', 'churn-mlp');
  const workerScript = path.join(root, 'dist', 'cli', 'shard-worker.js');
  const t0 = performance.now();
  const embedded = await runLocal({
    store,
    request: { dataset: data, asOf, model, output: joinUri(dir, 'q-embedded'), overrides: { explain: { policy: 'none' } }, execution: { device: 'cpu', concurrency: 2 } },
    workerScript,
  });
  const embeddedWall = (performance.now() - t0) / 1000;
  const one = await distributed(data, joinUri(dir, 'q-one'), 1, 2, `bench-q1-${process.pid}`);
  const two = await distributed(data, joinUri(dir, 'q-two'), 2, 1, `bench-q2-${process.pid}`);
  const rate = (rows: number, s: number) => Math.round(rows / s).toLocaleString('en-US');
  const lines = [
    `queue benchmark: ${customers.toLocaleString('en-US')} rows, ${embedded.shards} shards, CPU, 2 cores, explanations off`,
    `  embedded (2 threads): ${rate(embedded.rowsRead, embeddedWall)} rows/s (${embeddedWall.toFixed(2)} s wall)`,
    `  queue, 1 worker x 2 threads: ${rate(one.rows, one.seconds)} rows/s (${one.seconds.toFixed(2)} s from enqueue to commit), ${(embeddedWall / one.seconds).toFixed(2)}x embedded`,
    `  queue, 2 workers x 1 thread: ${rate(two.rows, two.seconds)} rows/s (${two.seconds.toFixed(2)} s), ${(embeddedWall / two.seconds).toFixed(2)}x embedded`,
    `  queue overhead per shard (1 worker vs embedded, same threads): ${(((one.seconds - embeddedWall) * 1000) / one.shards).toFixed(0)} ms`,
  ];
  const note = nodeFlagsNote();
  if (note) lines.push(note);
  for (const line of lines) process.stdout.write(`${line}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`queue bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
