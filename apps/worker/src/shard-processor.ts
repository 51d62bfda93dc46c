import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { ChurnError, isChurnError } from '@churn/errors';
import { parseJobData, shardJobSchema, type ShardJob } from '@churn/jobs';
import { loadBundle, modelId } from '@churn/model-bundle';
import type { ObjectStore } from '@churn/object-store';
import type { Device } from '@churn/onnx-runner';
import { createWorkerThreadExecutor, type ShardExecutor } from '@churn/scoring';
import type { ShardOutcome } from '@churn/warehouse';

export interface ShardProcessorOptions {
  store: ObjectStore;
  /** The bundled shard-worker script (dist/cli/shard-worker.js). */
  workerScript: string;
  /** Scoring threads per run (each scores one shard at a time). */
  threads: number;
  /** This host's execution provider; overrides the device in job settings. */
  device?: Device;
  log?: (message: string) => void;
}

/**
 * Scores shard jobs with worker-thread executors, one per run (bundle and run identity), kept
 * while the run's jobs keep coming. Decoding and inference happen off the event loop, so BullMQ
 * lock renewal never starves. Bad input fails without retry (UnrecoverableError); I/O errors
 * are rethrown for BullMQ's exponential backoff.
 */
export class ShardProcessor {
  private readonly executors = new Map<string, Promise<ShardExecutor>>();

  constructor(private readonly options: ShardProcessorOptions) {}

  private executorFor(job: ShardJob): Promise<ShardExecutor> {
    const key = `${job.runId}|${job.modelSha256}|${job.output}`;
    let executor = this.executors.get(key);
    if (!executor) {
      // A new run: keep the most recent other run's threads (its jobs may still be in flight
      // here) and release older ones.
      while (this.executors.size >= 2) {
        const [oldest, stale] = this.executors.entries().next().value as [string, Promise<ShardExecutor>];
        this.executors.delete(oldest);
        void stale.then((e) => e.close(), () => undefined);
      }
      executor = this.start(job);
      this.executors.set(key, executor);
      executor.catch(() => this.executors.delete(key));
    }
    return executor;
  }

  private async start(job: ShardJob): Promise<ShardExecutor> {
    const bundle = await loadBundle(this.options.store, job.model);
    if (bundle.manifest.model.sha256 !== job.modelSha256) {
      throw new ChurnError('INVALID_BUNDLE', `bundle ${job.model} changed since run ${job.runId} was planned (model sha256 ${bundle.manifest.model.sha256}, planned ${job.modelSha256}); re-plan the run`);
    }
    this.options.log?.(`run ${job.runId}: starting ${this.options.threads} scoring thread(s) for ${modelId(bundle.manifest)}`);
    return createWorkerThreadExecutor({
      workerScript: this.options.workerScript,
      threads: this.options.threads,
      init: {
        bundle,
        run: { runId: job.runId, asOf: job.asOf, modelName: bundle.manifest.name, modelVersion: bundle.manifest.version, scoredAt: job.scoredAt },
        output: job.output,
        settings: { ...job.settings, ...(this.options.device ? { device: this.options.device } : {}) },
      },
    });
  }

  /** BullMQ processor for the shard queue. */
  readonly process = async (job: Job): Promise<ShardOutcome> => {
    try {
      const data = parseJobData(shardJobSchema, job.data, job.id);
      const executor = await this.executorFor(data);
      return await executor.score(data.shard);
    } catch (error) {
      if (isChurnError(error) && !error.retryable) throw new UnrecoverableError(`${error.code}: ${error.message}`);
      throw error;
    }
  };

  async close(): Promise<void> {
    const executors = [...this.executors.values()];
    this.executors.clear();
    await Promise.all(executors.map((e) => e.then((x) => x.close(), () => undefined)));
  }
}
