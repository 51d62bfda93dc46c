import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { ChurnError } from '@churn/errors';
import type { QueueConnection, RunStatus } from '@churn/jobs';
import { createObjectStore } from '@churn/object-store';
import { DEVICES, type Device } from '@churn/onnx-runner';
import type { CliIo } from '../cli-io';
import { positiveInt, renderTable } from '../cli-options';
import { defaultBundlePath } from '../default-bundle';
import { addScoringOptions, runRequestOf, type ScoringFlags } from '../scoring-options';
import { reportCost, throwIfHeld, throwIfNotLoaded } from './score-command';

/**
 * The queue client, loaded when a queue command runs: bullmq takes ~120 ms to load, which every
 * other command (score, query, ...) would otherwise pay at start-up.
 */
function jobs(): typeof import('@churn/jobs') {
  return require('@churn/jobs') as typeof import('@churn/jobs');
}

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
  if (typeof start !== 'function') throw new ChurnError('INTERNAL', `${file} is not a ${name} bundle; run npm run build`);
  return { start: start as AppModule<T>['start'] };
}

const forever = () => new Promise<never>(() => undefined);

/** Waits for a run attempt and fails the command unless it committed. */
async function waitAndReport(io: CliIo, conn: QueueConnection, runId: string, attempt: number, timeout?: number): Promise<void> {
  const status = await jobs().waitForRun(conn, runId, attempt, timeout ? { timeoutMs: timeout * 1000 } : {});
  io.out(JSON.stringify(status));
  if (status.state === 'committed') {
    if (status.summary) {
      reportCost(io, status.summary);
      throwIfNotLoaded(status.summary);
      throwIfHeld(status.summary);
    }
    return;
  }
  if (status.state === 'failed') {
    throw new ChurnError('RUN_FAILED', `run ${runId} attempt ${attempt} failed${status.stage ? ` at ${status.stage}` : ''}: ${status.error ? `[${status.error.code}] ${status.error.message}` : 'no reason recorded'}`, {
      details: { runId, attempt, error: status.error ?? null },
    });
  }
  throw new ChurnError('TIMEOUT', `run ${runId} attempt ${attempt} is still ${status.state} after ${timeout}s`, { details: { runId, attempt }, settings: ['timeout'] });
}

interface RunFlags extends ScoringFlags {
  dataset: string;
  asOf?: string;
  output: string;
  priority?: number;
  wait?: boolean;
  timeout?: number;
}

/** Says so when a --warehouse password was kept out of the request (it would travel through Redis). */
const passwordNote = (io: CliIo) => () => io.err('note: the --warehouse password is not sent through the queue; the producer that loads the run takes it from its PGPASSWORD or ~/.pgpass');

function statusRows(statuses: RunStatus[]): Record<string, unknown>[] {
  return statuses.map((s) => ({
    run: s.runId,
    attempt: s.attempt,
    state: s.state,
    shards: s.progress ? `${s.progress.shardsDone}/${s.progress.shardsTotal}` : (s.summary?.shards ?? ''),
    rows: s.progress ? `${s.progress.rowsDone}/${s.progress.rowsTotal}` : (s.summary?.rowsRead ?? ''),
    'rows/s': s.progress?.rowsPerSecond ?? s.summary?.rowsPerSecond ?? '',
    eta: s.progress?.etaSeconds ?? '',
    'device-s': s.summary?.deviceSeconds ?? '',
    'cost/M rows': s.summary?.cost?.perMillionRows ?? '',
    reason: s.failedShards?.length ? s.failedShards.map((f) => `${f.file}: [${f.error.code}] ${f.error.message}`).join('; ') : s.error ? `[${s.error.code}] ${s.error.message}` : '',
  }));
}

export function registerQueueCommands(program: Command, io: CliIo): void {
  program
    .command('worker')
    .description('consume shard jobs from Redis (distributed mode) until SIGTERM')
    .option('--concurrency <n>', 'shards scored at once, each in its own thread (default: one per CPU core)', positiveInt)
    .addOption(new Option('--device <device>', 'execution provider on this host').choices(DEVICES))
    .option('--metrics-port <port>', 'serve Prometheus /metrics and /healthz on this port', positiveInt)
    .action(async (options: { concurrency?: number; device?: Device; metricsPort?: number }) => {
      // The worker and producer log through their own structured logger (stdout, docs/operations.md "Logs").
      await loadApp<{ concurrency?: number; device?: Device; metricsPort?: number; probeModel: string }>('worker').start({
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        ...(options.metricsPort ? { metricsPort: options.metricsPort } : {}),
        ...(options.device ? { device: options.device } : {}),
        probeModel: defaultBundlePath(),
      });
      await forever();
    });

  program
    .command('producer')
    .description('plan run requests into shard jobs and commit finished runs (distributed mode)')
    .option('--metrics-port <port>', 'serve Prometheus /metrics (queue depths, runs, commits), /healthz and /livez on this port', positiveInt)
    .action(async (options: { metricsPort?: number }) => {
      await loadApp<{ metricsPort?: number }>('producer').start(options.metricsPort ? { metricsPort: options.metricsPort } : {});
      await forever();
    });

  const run = program
    .command('run')
    .description('enqueue a scoring run for the queue workers (settings validated first); prints its run id and attempt')
    .requiredOption('--dataset <uri>', 'dataset root (holding as_of=YYYY-MM-DD/ partitions)')
    .option('--as-of <date>', 'partition to score (default: the latest)')
    .requiredOption('--output <uri>', 'score table root');
  addScoringOptions(run, { concurrency: false })
    .option('--priority <n>', 'BullMQ priority (1 is highest)', positiveInt)
    .option('--wait', 'block until the run ends; exit 0 only if it was committed')
    .option('--timeout <seconds>', 'with --wait: give up after this long', positiveInt)
    .action(async (options: RunFlags) => {
      const request = runRequestOf(options, { dataset: options.dataset, output: options.output, ...(options.asOf ? { asOf: options.asOf } : {}) }, passwordNote(io));
      const conn = jobs().queueConnectionFromEnv();
      const result = await jobs().requestRun(conn, createObjectStore(), request, options.priority ? { priority: options.priority } : {});
      io.err(result.enqueued ? `enqueued run ${result.runId} attempt ${result.attempt}` : `run ${result.runId} attempt ${result.attempt} is already ${result.state ?? 'enqueued'}; nothing added`);
      if (!options.wait) {
        io.out(JSON.stringify(result));
        return;
      }
      await waitAndReport(io, conn, result.runId, result.attempt, options.timeout);
    });

  program
    .command('resume')
    .description('resume a failed run as a new attempt: re-plan it if it failed planning, else re-enqueue only its failed or missing shards')
    .argument('<runId>', 'run id, as printed by churn run')
    .option('--wait', 'block until the run ends; exit 0 only if it was committed')
    .option('--timeout <seconds>', 'with --wait: give up after this long', positiveInt)
    .action(async (runId: string, options: { wait?: boolean; timeout?: number }) => {
      const conn = jobs().queueConnectionFromEnv();
      const result = await jobs().resumeRun(conn, createObjectStore(), runId);
      io.err(
        result.stage === 'planning'
          ? `resumed run ${runId} as attempt ${result.attempt}: planning again`
          : `resumed run ${runId} as attempt ${result.attempt}: re-enqueued shard(s) ${result.reenqueued.join(', ') || 'none'}`,
      );
      if (!options.wait) {
        io.out(JSON.stringify(result));
        return;
      }
      await waitAndReport(io, conn, runId, result.attempt, options.timeout);
    });

  const schedule = program.command('schedule').description('nightly runs through BullMQ job schedulers');
  const set = schedule
    .command('set')
    .description('create or replace a schedule (settings, cron and time zone validated first)')
    .argument('<name>', 'schedule name (letters, digits, _, . and -)')
    .requiredOption('--cron <expression>', 'cron pattern, e.g. "0 2 * * *"')
    .option('--tz <zone>', 'IANA time zone of the cron pattern, e.g. Europe/Berlin')
    .requiredOption('--dataset <uri>', 'dataset root')
    .requiredOption('--output <uri>', 'score table root')
    .addOption(new Option('--as-of <mode>', 'the newest partition, or the partition of the tick date').choices(['latest', 'tick'] as const).default('latest'));
  addScoringOptions(set, { concurrency: false }).action(async (name: string, options: ScoringFlags & { cron: string; tz?: string; dataset: string; output: string; asOf: 'latest' | 'tick' }) => {
    const { asOf: _asOf, ...request } = runRequestOf(options, { dataset: options.dataset, output: options.output }, passwordNote(io));
    await jobs().setSchedule(jobs().queueConnectionFromEnv(), createObjectStore(), { name, asOf: options.asOf, request: jobs().scheduleTickSchema.shape.request.parse(request) }, options.cron, options.tz);
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

  const backfill = program
    .command('backfill')
    .description('score every as-of partition in a date range, a capped number of runs at a time, below scheduled runs in priority')
    .requiredOption('--from <date>', 'first as-of date (inclusive)')
    .requiredOption('--to <date>', 'last as-of date (inclusive)')
    .requiredOption('--dataset <uri>', 'dataset root')
    .requiredOption('--output <uri>', 'score table root')
    .option('--max-concurrent-runs <n>', 'backfill runs in flight at once', positiveInt, 2);
  addScoringOptions(backfill, { concurrency: false }).action(async (options: ScoringFlags & { from: string; to: string; dataset: string; output: string; maxConcurrentRuns: number }) => {
    const { asOf: _asOf, ...request } = runRequestOf(options, { dataset: options.dataset, output: options.output }, passwordNote(io));
    const statuses = await jobs().backfill(jobs().queueConnectionFromEnv(), createObjectStore(), {
      request,
      from: options.from,
      to: options.to,
      maxConcurrentRuns: options.maxConcurrentRuns,
      onRunDone: (status) => io.out(JSON.stringify(status)),
    });
    const failed = statuses.filter((s) => s.state !== 'committed');
    io.err(`backfill: ${statuses.length - failed.length} of ${statuses.length} run(s) committed`);
    if (failed.length > 0) throw new ChurnError('RUN_FAILED', `backfill runs not committed: ${failed.map((s) => `${s.runId} (${s.state})`).join(', ')}`);
    for (const status of statuses) if (status.summary) throwIfNotLoaded(status.summary);
  });

  program
    .command('status')
    .description('distributed runs: state, attempt, shards done/total, rows, rows/s, ETA, device-seconds, cost per million rows, failed shards with file, code and reason')
    .argument('[runId]', 'one run (default: the most recent runs)')
    .option('--json', 'one JSON object per run instead of a table')
    .action(async (runId: string | undefined, options: { json?: boolean }) => {
      const conn = jobs().queueConnectionFromEnv();
      const statuses = runId ? [await jobs().runStatus(conn, runId)] : await jobs().listRuns(conn);
      if (options.json || runId) {
        for (const status of statuses) io.out(JSON.stringify(status));
        return;
      }
      for (const line of renderTable(['run', 'attempt', 'state', 'shards', 'rows', 'rows/s', 'eta', 'device-s', 'cost/M rows', 'reason'], statusRows(statuses))) io.out(line);
    });
}
