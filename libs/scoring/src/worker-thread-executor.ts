import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { ChurnError, deserializeError } from '@churn/errors';
import type { ShardOutcome } from '@churn/warehouse';
import type { ShardExecutor } from './shard-executor';
import type { ShardSpec } from './shard-planner';
import type { ShardProgress } from './score-shard';
import { fromWorkerSchema, type ShardWorkerInit, type ToWorker } from './shard-worker-protocol';

interface Job {
  id: number;
  shard: ShardSpec;
  resolve: (o: ShardOutcome) => void;
  reject: (e: Error) => void;
  onProgress?: ShardProgress;
}

interface Slot {
  worker: Worker;
  /** Claimed by a caller (set synchronously, before the job is posted). */
  busy: boolean;
  job?: Job;
  /** The thread reported a WebAssembly trap and is exiting: it takes no further job. */
  recycled?: boolean;
  /** Set once the thread has exited or failed: the slot is then replaced (or dropped). */
  dead?: Error;
}

export interface WorkerThreadExecutorOptions {
  /** The bundled `shard-worker-main` script. */
  workerScript: string;
  threads: number;
  init: Omit<ShardWorkerInit, 'intraOpThreads'>;
  log?: (message: string) => void;
  /** Where its threads are registered, so a process can stop them all at once. */
  group?: ScoringThreads;
}

/**
 * The scoring threads of a process, so they can be stopped at once: a queue worker that gives up
 * its active shards at the drain deadline terminates them before it exits. Exiting with a thread
 * still inside ONNX Runtime (say, creating its session) could abort the whole process in native
 * code (`terminate called after throwing an instance of 'Napi::Error'`, SIGABRT) instead of
 * exiting with the drain's exit code.
 */
export class ScoringThreads {
  private readonly workers = new Set<Worker>();
  /** Set by terminateAll: threads that die are not replaced any more. */
  stopped = false;

  add(worker: Worker): void {
    this.workers.add(worker);
    worker.once('exit', () => this.workers.delete(worker));
    if (this.stopped) worker.postMessage({ type: 'exit' } satisfies ToWorker);
  }

  /**
   * Asks every thread (starting ones too) to exit, which each does between native calls, and
   * resolves once all have exited; a thread still busy after `boundMs` is terminated.
   */
  async terminateAll(boundMs = 1_500): Promise<void> {
    this.stopped = true;
    await Promise.all(
      [...this.workers].map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void w.terminate().catch(() => undefined), boundMs);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.postMessage({ type: 'exit' } satisfies ToWorker);
          }),
      ),
    );
  }
}

type Ready = { device: string; deviceFallbacks: string[]; batchRows: number };

/**
 * Scores shards in `threads` worker threads, one shard per thread at a time. ONNX Runtime gets
 * an even share of the cores in each thread, so threads do not oversubscribe the machine. A
 * thread that dies (out of memory, a decoder trap on a damaged file) fails only the shard it
 * held, with SCORING_THREAD_CRASHED, and is replaced, so later shards still score.
 */
export async function createWorkerThreadExecutor(options: WorkerThreadExecutorOptions): Promise<ShardExecutor> {
  const threads = Math.max(1, options.threads);
  const intraOpThreads = Math.max(1, Math.floor(availableParallelism() / threads));
  const workerData: ShardWorkerInit = { ...options.init, intraOpThreads };
  const slots: Slot[] = [];
  const waiting: ((slot: Slot) => void)[] = [];
  const failedWaiting: ((error: Error) => void)[] = [];
  let nextId = 0;
  let closing = false;
  let lastStartError: Error | undefined;

  const release = (slot: Slot) => {
    slot.job = undefined;
    slot.busy = false;
    const next = waiting.shift();
    failedWaiting.shift();
    if (next) {
      slot.busy = true;
      next(slot);
    }
  };

  /** Starts a thread; resolves once it is ready, rejects if it cannot start. */
  const spawn = (): Promise<Ready> => {
    const worker = new Worker(options.workerScript, { workerData });
    options.group?.add(worker);
    const slot: Slot = { worker, busy: true };
    slots.push(slot);
    return new Promise<Ready>((resolve, reject) => {
      let ready = false;
      worker.on('message', (raw: unknown) => {
        const parsed = fromWorkerSchema.safeParse(raw);
        if (!parsed.success) return;
        const message = parsed.data;
        if (message.type === 'ready') {
          ready = true;
          resolve({ device: message.device, deviceFallbacks: message.deviceFallbacks, batchRows: message.batchRows });
          release(slot);
        } else if (message.type === 'init-failed') {
          reject(deserializeError(message.error));
        } else if (slot.job && message.id === slot.job.id) {
          const job = slot.job;
          if (message.type === 'progress') {
            job.onProgress?.(message.rows, message.batch);
            return;
          }
          if (message.type === 'failed' && message.recycle) {
            // The thread exits after this message; the slot must not take another job.
            slot.recycled = true;
            slot.job = undefined;
            job.reject(deserializeError(message.error));
            return;
          }
          release(slot);
          if (message.type === 'done') job.resolve(message.outcome);
          else job.reject(deserializeError(message.error));
        }
      });
      const died = (cause: Error) => {
        if (slot.dead) return; // 'error' is followed by 'exit'
        slot.dead = cause;
        slots.splice(slots.indexOf(slot), 1);
        const job = slot.job;
        slot.job = undefined;
        if (!ready) reject(cause);
        if (job) {
          job.reject(
            new ChurnError('SCORING_THREAD_CRASHED', `the thread scoring shard ${job.shard.index} (${job.shard.file}) died: ${cause.message}; the thread was replaced`, {
              cause,
              details: { shard: job.shard.index, file: job.shard.file },
            }),
          );
        }
        if (ready && !closing && !options.group?.stopped) {
          options.log?.(`scoring thread ${slot.recycled ? 'recycled after a decoder trap' : `died (${cause.message})`}; starting a replacement`);
          spawn().catch((error: unknown) => {
            lastStartError = error instanceof Error ? error : new Error(String(error));
            options.log?.(`replacement scoring thread failed to start: ${lastStartError.message}`);
            if (slots.length === 0) for (const fail of failedWaiting.splice(0)) fail(lastStartError);
          });
        }
      };
      worker.on('error', died);
      worker.on('exit', (code) => died(new Error(code === 0 ? 'thread exited' : `thread exited with code ${code}`)));
    });
  };

  const ready = await Promise.allSettled(Array.from({ length: threads }, spawn));
  const failed = ready.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    closing = true;
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw failed.reason;
  }
  const first = (ready[0] as PromiseFulfilledResult<Ready>).value;
  const acquire = (): Promise<Slot> => {
    const idle = slots.find((s) => !s.busy && !s.dead && !s.recycled);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    if (slots.length === 0) return Promise.reject(new ChurnError('SCORING_THREAD_CRASHED', `no scoring thread is running${lastStartError ? `: ${lastStartError.message}` : ''}`));
    return new Promise((resolve, reject) => {
      waiting.push(resolve);
      failedWaiting.push(reject);
    });
  };
  return {
    device: first.device,
    deviceFallbacks: first.deviceFallbacks,
    batchRows: first.batchRows,
    concurrency: threads,
    async score(shard, onProgress) {
      const slot = await acquire();
      return new Promise<ShardOutcome>((resolve, reject) => {
        const id = nextId++;
        slot.job = { id, shard, resolve, reject, ...(onProgress ? { onProgress } : {}) };
        slot.worker.postMessage({ type: 'score', id, shard } satisfies ToWorker);
      });
    },
    async close() {
      closing = true;
      await Promise.all(
        [...slots].map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.dead || s.recycled) return resolve();
              s.worker.once('exit', () => resolve());
              s.worker.postMessage({ type: 'close' } satisfies ToWorker);
            }),
        ),
      );
    },
  };
}
