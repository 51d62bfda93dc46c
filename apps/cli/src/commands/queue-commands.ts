import * as path from 'node:path';
import type { Command } from 'commander';
import { ChurnError } from '@churn/errors';
import { enqueueRun, queueConnectionFromEnv, resumeRun, runStatus, waitForRun, type RunStatus } from '@churn/jobs';
import { createObjectStore } from '@churn/object-store';
import { parseDevice, type Device } from '@churn/onnx-runner';
import { resolveRun } from '@churn/scoring';
import type { CliIo } from '../cli-io';
import { positiveInt } from '../cli-options';
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
      const conn = queueConnectionFromEnv();
      const run = await resolveRun(createObjectStore(), { input: options.dataset, model: options.model ?? defaultBundlePath(), output: options.output, ...(options.asOf ? { asOf: options.asOf } : {}) });
      const added = await enqueueRun(
        conn,
        {
          runId: run.runId,
          dataset: options.dataset,
          asOf: run.partition.asOf,
          model: run.bundle.uri,
          output: run.output,
          shardRows: options.shardRows,
          settings: { device: parseDevice(options.device), ...(options.explain ? { explain: { policy: options.explain } } : {}) },
          requestedAt: new Date().toISOString(),
        },
        options.priority ? { priority: options.priority } : {},
      );
      io.err(added ? `enqueued run ${run.runId}` : `run ${run.runId} is already enqueued; nothing added`);
      if (!options.wait) {
        io.out(JSON.stringify({ runId: run.runId, enqueued: added }));
        return;
      }
      const status = await waitForRun(conn, run.runId, options.timeout ? { timeoutMs: options.timeout * 1000 } : {});
      io.out(statusLine(status));
      if (status.state !== 'committed') {
        throw new ChurnError('COMMIT_FAILED', `run ${run.runId} ended ${status.state}${status.reason ? `: ${status.reason}` : ''}`);
      }
    });

  program
    .command('resume')
    .description('re-enqueue only the failed or missing shards of a failed run, then commit it')
    .argument('<runId>', 'run id, as printed by churn run')
    .option('--wait', 'block until the run ends; exit 0 only if it was committed')
    .option('--timeout <seconds>', 'with --wait: give up after this long', positiveInt)
    .action(async (runId: string, options: { wait?: boolean; timeout?: number }) => {
      const conn = queueConnectionFromEnv();
      const shards = await resumeRun(conn, runId, createObjectStore());
      io.err(`resumed run ${runId}: re-enqueued shard(s) ${shards.join(', ') || 'none'}`);
      if (!options.wait) {
        io.out(JSON.stringify({ runId, reenqueued: shards }));
        return;
      }
      const status = await waitForRun(conn, runId, options.timeout ? { timeoutMs: options.timeout * 1000 } : {});
      io.out(statusLine(status));
      if (status.state !== 'committed') throw new ChurnError('COMMIT_FAILED', `run ${runId} ended ${status.state}${status.reason ? `: ${status.reason}` : ''}`);
    });

  program
    .command('status')
    .description('state of a distributed run: queued, running, committed or failed')
    .argument('<runId>', 'run id, as printed by churn run')
    .action(async (runId: string) => {
      io.out(statusLine(await runStatus(queueConnectionFromEnv(), runId)));
    });
}
