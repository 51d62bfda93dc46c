import * as path from 'node:path';
import type { Command } from 'commander';
import { ChurnError } from '@churn/errors';
import type { RunStatus } from '@churn/jobs';

/**
 * The queue client, loaded when a queue command runs: bullmq takes ~120 ms to load, which every
 * other command (score, query, ...) would otherwise pay at start-up.
 */
function jobs(): typeof import('@churn/jobs') {
  return require('@churn/jobs') as typeof import('@churn/jobs');
}
import { createObjectStore } from '@churn/object-store';
import { parseDevice, type Device } from '@churn/onnx-runner';
import type { CliIo } from '../cli-io';
import { positiveInt, renderTable } from '../cli-options';
import { defaultBundlePath } from '../default-bundle';

interface AppModule<T> {
  start(options: T): Promise<{ close(): Promise<void> }>;
}

/**
 * The worker and producer are their own apps (apps/worker, apps/producer), bundled beside the
 * CLI in dist/; `churn worker` and `churn producer` load those bundles.
 */
function loadApp<T>(name: 'worker' | 'producer'): AppModule<T> {
  const file = path.join(__dirname, '..', name, 'main.js');
  const mod = require(file) as Record<string, unknown>;
  const start = mod[name === 'worker' ? 'startWorker' : 'startProducer'];
  if (typeof start !== 'function') throw new ChurnError('INVALID_ARGUMENT', `${file} is not a ${name} bundle; run npm run build`);
  return { start: start as AppModule<T>['start'] };
}

const forever = () => new Promise<never>(() => undefined);

function statusLine(status: RunStatus): string {
  return JSON.stringify(status);
}

export function registerQueueCommands(program: Command, io: CliIo): void {
  program
    .command('worker')
    .description('consume shard jobs from Redis (distributed mode) until SIGTERM')
    .option('--concurrency <n>', 'shards scored at once, each in its own thread (default: one per CPU core)', positiveInt)
    .option('--device <device>', 'execution provider on this host: auto | cpu | cuda | webgpu')
    .option('--metrics-port <port>', 'serve Prometheus /metrics and /healthz on this port', positiveInt)
    .action(async (options: { concurrency?: number; device?: string; metricsPort?: number }) => {
      const device = options.device ? parseDevice(options.device) : undefined;
      await loadApp<{ concurrency?: number; device?: Device; metricsPort?: number; log: (m: string) => void }>('worker').start({
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        ...(options.metricsPort ? { metricsPort: options.metricsPort } : {}),
        ...(device ? { device } : {}),
        log: (m) => io.err(m),
      });
      await forever();
    });

  program
    .command('producer')
    .description('plan run requests into shard jobs and commit finished runs (distributed mode)')
    .action(async () => {
      await loadApp<{ log: (m: string) => void }>('producer').start({ log: (m) => io.err(m) });
      await forever();
    });

  program
    .command('run')
    .description('enqueue a scoring run for the queue workers; prints its run id')
    .requiredOption('--dataset <uri>', 'dataset root (holding as_of=YYYY-MM-DD/ partitions)')
    .option('--as-of <date>', 'partition to score (default: the latest)')
    .option('--model <uri>', 'model bundle (default: the committed models/churn-mlp)')
    .requiredOption('--output <uri>', 'score table root')
    .option('--explain <policy>', "rows to explain (default: the bundle's)")
    .option('--device <device>', 'execution provider for the workers (default auto)', 'auto')
    .option('--shard-rows <n>', 'target rows per shard', positiveInt, 131_072)
    .option('--priority <n>', 'BullMQ priority (1 is highest)', positiveInt)
    .option('--wait', 'block until the run ends; exit 0 only if it was committed')
    .option('--timeout <seconds>', 'with --wait: give up after this long', positiveInt)
    .action(async (options: { dataset: string; asOf?: string; model?: string; output: string; explain?: string; device: string; shardRows: number; priority?: number; wait?: boolean; timeout?: number }) => {
      const conn = jobs().queueConnectionFromEnv();
      const { runId, enqueued: added } = await jobs().requestRun(conn, createObjectStore(), {
        dataset: options.dataset,
        model: options.model ?? defaultBundlePath(),
        output: options.output,
        shardRows: options.shardRows,
        settings: { device: parseDevice(options.device), ...(options.explain ? { explain: { policy: options.explain } } : {}) },
        ...(options.asOf ? { asOf: options.asOf } : {}),
        ...(options.priority ? { priority: options.priority } : {}),
      });
      io.err(added ? `enqueued run ${runId}` : `run ${runId} is already enqueued; nothing added`);
      if (!options.wait) {
        io.out(JSON.stringify({ runId: runId, enqueued: added }));
        return;
      }
      const status = await jobs().waitForRun(conn, runId, options.timeout ? { timeoutMs: options.timeout * 1000 } : {});
      io.out(statusLine(status));
      if (status.state !== 'committed') {
        throw new ChurnError('COMMIT_FAILED', `run ${runId} ended ${status.state}${status.reason ? `: ${status.reason}` : ''}`);
      }
    });

  program
    .command('resume')
    .description('re-enqueue only the failed or missing shards of a failed run, then commit it')
    .argument('<runId>', 'run id, as printed by churn run')
    .option('--wait', 'block until the run ends; exit 0 only if it was committed')
    .option('--timeout <seconds>', 'with --wait: give up after this long', positiveInt)
    .action(async (runId: string, options: { wait?: boolean; timeout?: number }) => {
      const conn = jobs().queueConnectionFromEnv();
      const shards = await jobs().resumeRun(conn, runId, createObjectStore());
      io.err(`resumed run ${runId}: re-enqueued shard(s) ${shards.join(', ') || 'none'}`);
      if (!options.wait) {
        io.out(JSON.stringify({ runId, reenqueued: shards }));
        return;
      }
      const status = await jobs().waitForRun(conn, runId, options.timeout ? { timeoutMs: options.timeout * 1000 } : {});
      io.out(statusLine(status));
      if (status.state !== 'committed') throw new ChurnError('COMMIT_FAILED', `run ${runId} ended ${status.state}${status.reason ? `: ${status.reason}` : ''}`);
    });

  const schedule = program.command('schedule').description('nightly runs through BullMQ job schedulers: set, list, remove');
  schedule
    .command('set')
    .description('create or replace a schedule; each tick scores the newest partition (or the tick date)')
    .argument('<name>', 'schedule name')
    .requiredOption('--cron <pattern>', 'cron pattern, e.g. "0 2 * * *"')
    .option('--tz <zone>', 'time zone of the pattern, e.g. Europe/Berlin')
    .requiredOption('--dataset <uri>', 'dataset root')
    .option('--model <uri>', 'model bundle (default: the committed models/churn-mlp)')
    .requiredOption('--output <uri>', 'score table root')
    .option('--as-of <mode>', 'latest | tick: the newest partition, or the partition of the tick date', 'latest')
    .option('--explain <policy>', "rows to explain (default: the bundle's)")
    .option('--shard-rows <n>', 'target rows per shard', positiveInt, 131_072)
    .action(async (name: string, options: { cron: string; tz?: string; dataset: string; model?: string; output: string; asOf: string; explain?: string; shardRows: number }) => {
      if (options.asOf !== 'latest' && options.asOf !== 'tick') throw new ChurnError('INVALID_ARGUMENT', `--as-of must be latest or tick, got "${options.asOf}"`);
      const tick = {
        name,
        dataset: options.dataset,
        model: options.model ?? defaultBundlePath(),
        output: options.output,
        asOf: options.asOf as 'latest' | 'tick',
        shardRows: options.shardRows,
        settings: { device: 'auto' as const, ...(options.explain ? { explain: { policy: options.explain } } : {}) },
      };
      await jobs().setSchedule(jobs().queueConnectionFromEnv(), tick, options.cron, options.tz);
      io.err(`schedule ${name} set: ${options.cron}${options.tz ? ` (${options.tz})` : ''}`);
    });
  schedule
    .command('list')
    .description('list schedules with their next tick')
    .action(async () => {
      for (const s of await jobs().listSchedules(jobs().queueConnectionFromEnv())) io.out(JSON.stringify(s));
    });
  schedule
    .command('remove')
    .description('remove a schedule')
    .argument('<name>', 'schedule name')
    .action(async (name: string) => {
      const removed = await jobs().removeSchedule(jobs().queueConnectionFromEnv(), name);
      if (!removed) throw new ChurnError('INPUT_NOT_FOUND', `no schedule named "${name}"`);
      io.err(`schedule ${name} removed`);
    });

  program
    .command('backfill')
    .description('score every as-of partition in a date range, a capped number of runs at a time, below scheduled runs in priority')
    .requiredOption('--from <date>', 'first as-of date (inclusive)')
    .requiredOption('--to <date>', 'last as-of date (inclusive)')
    .requiredOption('--dataset <uri>', 'dataset root')
    .option('--model <uri>', 'model bundle (default: the committed models/churn-mlp)')
    .requiredOption('--output <uri>', 'score table root')
    .option('--max-concurrent-runs <n>', 'backfill runs in flight at once', positiveInt, 2)
    .option('--explain <policy>', "rows to explain (default: the bundle's)")
    .option('--shard-rows <n>', 'target rows per shard', positiveInt, 131_072)
    .action(async (options: { from: string; to: string; dataset: string; model?: string; output: string; maxConcurrentRuns: number; explain?: string; shardRows: number }) => {
      const statuses = await jobs().backfill(jobs().queueConnectionFromEnv(), createObjectStore(), {
        from: options.from,
        to: options.to,
        dataset: options.dataset,
        model: options.model ?? defaultBundlePath(),
        output: options.output,
        shardRows: options.shardRows,
        maxConcurrentRuns: options.maxConcurrentRuns,
        settings: { device: 'auto', ...(options.explain ? { explain: { policy: options.explain } } : {}) },
        onRunDone: (status) => io.out(statusLine(status)),
      });
      const failed = statuses.filter((s) => s.state !== 'committed');
      io.err(`backfill: ${statuses.length - failed.length} of ${statuses.length} run(s) committed`);
      if (failed.length > 0) throw new ChurnError('COMMIT_FAILED', `backfill runs not committed: ${failed.map((s) => `${s.runId} (${s.state})`).join(', ')}`);
    });

  program
    .command('status')
    .description('distributed runs: state, shards done/total, rows, rows/s, ETA, failed shards with file and reason')
    .argument('[runId]', 'one run (default: the most recent runs)')
    .option('--json', 'one JSON object per run instead of a table')
    .action(async (runId: string | undefined, options: { json?: boolean }) => {
      const conn = jobs().queueConnectionFromEnv();
      const statuses = runId ? [await jobs().runStatus(conn, runId)] : await jobs().listRuns(conn);
      if (options.json || runId) {
        for (const status of statuses) io.out(statusLine(status));
        return;
      }
      const rows = statuses.map((s) => ({
        run: s.runId,
        state: s.state,
        shards: s.progress ? `${s.progress.shardsDone}/${s.progress.shardsTotal}` : '',
        rows: s.progress ? `${s.progress.rowsDone}/${s.progress.rowsTotal}` : String((s.result?.['rowsRead'] as number | undefined) ?? ''),
        'rows/s': s.progress?.rowsPerSecond ?? (s.result?.['rowsPerSecond'] as number | undefined) ?? '',
        eta: s.progress?.etaSeconds ?? '',
        reason: s.failedShards?.map((f) => `${f.file}: ${f.reason}`).join('; ') ?? s.reason ?? '',
      }));
      for (const line of renderTable(['run', 'state', 'shards', 'rows', 'rows/s', 'eta', 'reason'], rows)) io.out(line);
    });
}
