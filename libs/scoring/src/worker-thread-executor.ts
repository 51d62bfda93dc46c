import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { ChurnError } from '@churn/errors';
import type { ShardOutcome } from '@churn/warehouse';
import type { ShardExecutor } from './shard-executor';
import type { ShardSpec } from './shard-planner';
import { deserializeError, type FromWorker, type ShardWorkerInit, type ToWorker } from './shard-worker-protocol';

interface Slot {
  worker: Worker;
  /** Claimed by a caller (set synchronously, before the job is posted). */
  busy: boolean;
  job?: { id: number; shard: ShardSpec; resolve: (o: ShardOutcome) => void; reject: (e: Error) => void };
  dead?: Error;
}

export interface WorkerThreadExecutorOptions {
  /** The bundled `shard-worker-main` script. */
  workerScript: string;
  threads: number;
  init: Omit<ShardWorkerInit, 'intraOpThreads'>;
}

/**
 * Scores shards in `threads` worker threads, one shard per thread at a time. ONNX Runtime gets
 * an even share of the cores in each thread, so threads do not oversubscribe the machine.
 */
export async function createWorkerThreadExecutor(options: WorkerThreadExecutorOptions): Promise<ShardExecutor> {
  const threads = Math.max(1, options.threads);
  const intraOpThreads = Math.max(1, Math.floor(availableParallelism() / threads));
  const slots: Slot[] = [];
  const waiting: ((slot: Slot) => void)[] = [];
  let nextId = 0;

  const release = (slot: Slot) => {
    slot.job = undefined;
    slot.busy = false;
    const next = waiting.shift();
    if (next) {
      slot.busy = true;
      next(slot);
    }
  };

  const ready = await Promise.allSettled(
    Array.from({ length: threads }, () => {
      const worker = new Worker(options.workerScript, { workerData: { ...options.init, intraOpThreads } satisfies ShardWorkerInit });
      const slot: Slot = { worker, busy: false };
      slots.push(slot);
      return new Promise<Extract<FromWorker, { type: 'ready' }>>((resolve, reject) => {
        worker.on('message', (message: FromWorker) => {
          if (message.type === 'ready') resolve(message);
          else if (message.type === 'init-failed') reject(deserializeError(message.error));
          else if (slot.job && message.id === slot.job.id) {
            const job = slot.job;
            release(slot);
            if (message.type === 'done') job.resolve(message.outcome);
            else job.reject(deserializeError(message.error));
          }
        });
        const fail = (cause: Error) => {
          slot.dead = cause;
          reject(cause);
          const job = slot.job;
          if (job) {
            slot.job = undefined;
            job.reject(new ChurnError('IO_ERROR', `the worker thread scoring shard ${job.shard.index} (${job.shard.file}) stopped: ${cause.message}`, { cause, details: { file: job.shard.file } }));
          }
        };
        worker.on('error', fail);
        worker.on('exit', (code) => fail(new Error(`worker thread exited with code ${code}`)));
      });
    }),
  );
  const failed = ready.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw failed.reason;
  }
  const first = (ready[0] as PromiseFulfilledResult<Extract<FromWorker, { type: 'ready' }>>).value;

  const acquire = (): Promise<Slot> => {
    const idle = slots.find((s) => !s.busy && !s.dead);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    if (slots.every((s) => s.dead)) return Promise.reject(slots[0]!.dead!);
    return new Promise((resolve) => waiting.push(resolve));
  };

  return {
    device: first.device,
    batchRows: first.batchRows,
    maxBadRowFraction: first.maxBadRowFraction,
    concurrency: threads,
    explain: first.explain,
    async score(shard) {
      const slot = await acquire();
      return new Promise<ShardOutcome>((resolve, reject) => {
        const id = nextId++;
        slot.job = { id, shard, resolve, reject };
        slot.worker.postMessage({ type: 'score', id, shard } satisfies ToWorker);
      });
    },
    async close() {
      await Promise.all(
        slots.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.dead) return resolve();
              s.worker.removeAllListeners('exit');
              s.worker.once('exit', () => resolve());
              s.worker.postMessage({ type: 'close' } satisfies ToWorker);
            }),
        ),
      );
    },
  };
}
