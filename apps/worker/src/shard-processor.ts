import { Job, Queue } from 'bullmq';
import { ChurnError } from '@churn/errors';
import { commitJobSchema, parseJobData, queueFailure, QUEUES, shardJobSchema, type QueueConnection, type ShardJob } from '@churn/jobs';
import { canonicalJson, loadBundle, modelId } from '@churn/model-bundle';
import type { LocationPolicy, ObjectStore } from '@churn/object-store';
import type { Device } from '@churn/onnx-runner';
import type { LogFields, Logger } from '@churn/logging';
import { createWorkerThreadExecutor, parsePlan, ScoringThreads, shardRunOf, type InferenceBatch, type RunPlan, type ShardExecutor } from '@churn/scoring';
import type { ShardOutcome } from '@churn/warehouse';

export interface ShardProcessorOptions {
  store: ObjectStore;
  conn: QueueConnection;
  locations: LocationPolicy;
  /** The bundled shard-worker script (dist/cli/shard-worker.js). */
  workerScript: string;
  /** Scoring threads per run (each scores one shard at a time). */
  threads: number;
  /** This host's execution provider; overrides the device in the plan. */
  device?: Device;
  /** Hears each inference batch and each scored shard, with the run's model (the metrics). */
  observer?: ShardObserver;
  /** Where the processor logs; shard lines carry the job's run, attempt, shard and model. */
  logger?: Logger;
}

/** What the processor reports as shards score: the seam the worker's metrics plug into. */
export interface ShardObserver {
  batchScored(model: { name: string; version: string }, batch: InferenceBatch): void;
  shardDone(model: { name: string; version: string }, outcome: ShardOutcome): void;
}

interface RunContext {
  plan: RunPlan;
  executor?: Promise<ShardExecutor>;
}

/**
 * Scores shard jobs with worker-thread executors, one per run attempt, kept while the run's
 * jobs keep coming. A shard job names only its run, attempt and shard: the plan comes from the
 * flow's parent job, checked (its identity must give its run id, its locations must be
 * allowed, the shard must be the plan's), so a forged job cannot aim the worker elsewhere.
 * Decoding and inference happen off the event loop, so lock renewal never starves. Failures go
 * by the error table: bad input fails at once, I/O and crashed threads retry with backoff.
 */
export class ShardProcessor {
  private readonly runs = new Map<string, RunContext>();

  /** Every scoring thread this processor started, for `terminate`. */
  private readonly threads = new ScoringThreads();

  constructor(private readonly options: ShardProcessorOptions) {}

  /** The plan of a shard job's run, from its parent commit job. */
  private async planOf(job: Job, data: ShardJob): Promise<RunPlan> {
    const parent = job.parent;
    if (!parent?.id || !parent.queueKey.endsWith(`:${QUEUES.commits}`)) {
      throw new ChurnError('INVALID_ARGUMENT', `job ${job.id} is not part of a run flow (it has no commit parent); shard jobs are added by the producer`, { details: { jobId: job.id } });
    }
    const commits = new Queue(QUEUES.commits, { connection: this.options.conn.connection, prefix: this.options.conn.prefix });
    try {
      const commit = await Job.fromId(commits, parent.id);
      if (!commit) throw new ChurnError('INPUT_NOT_FOUND', `the commit job ${parent.id} of shard job ${job.id} is gone; the run was removed`, { details: { jobId: job.id } });
      const commitData = parseJobData(commitJobSchema, commit.data, commit.id);
      const plan = parsePlan(commitData.plan, `job ${commit.id}`);
      if (plan.runId !== data.runId || commitData.attempt !== data.attempt) {
        throw new ChurnError('INVALID_ARGUMENT', `shard job ${job.id} names run ${data.runId} attempt ${data.attempt} but its parent is run ${plan.runId} attempt ${commitData.attempt}`);
      }
      return plan;
    } finally {
      await commits.close();
    }
  }

  private async contextFor(job: Job, data: ShardJob): Promise<RunContext> {
    const key = `${data.runId}|${data.attempt}`;
    const known = this.runs.get(key);
    if (known) return known;
    const plan = await this.planOf(job, data);
    const { locations } = this.options;
    locations.check(plan.partition.uri, 'dataset');
    locations.check(plan.model.bundle, 'model bundle');
    locations.check(plan.output, 'output');
    // A new run: keep the most recent other run's threads (its jobs may still be in flight
    // here) and release older ones.
    while (this.runs.size >= 2) {
      const [oldest, stale] = this.runs.entries().next().value as [string, RunContext];
      this.runs.delete(oldest);
      void stale.executor?.then((e) => e.close(), () => undefined);
    }
    const context: RunContext = { plan };
    this.runs.set(key, context);
    return context;
  }

  /** The run's scoring threads, started on its first genuine shard. */
  private executorOf(key: string, context: RunContext, attempt: number): Promise<ShardExecutor> {
    if (!context.executor) {
      context.executor = this.start(context.plan, attempt);
      context.executor.catch(() => this.runs.delete(key));
    }
    return context.executor;
  }

  private async start(plan: RunPlan, attempt: number): Promise<ShardExecutor> {
    const bundle = await loadBundle(this.options.store, plan.model.bundle, plan.model.digest);
    const logger = this.options.logger?.child({ runId: plan.runId, attempt, model: modelId(bundle.manifest) });
    logger?.info(`run ${plan.runId}: starting ${this.options.threads} scoring thread(s) for ${modelId(bundle.manifest)}`);
    const run = shardRunOf({ ...plan, execution: { ...plan.execution, ...(this.options.device ? { device: this.options.device } : {}) } }, attempt, this.options.threads);
    return createWorkerThreadExecutor({
      workerScript: this.options.workerScript,
      threads: this.options.threads,
      init: { bundle, run },
      // What the executor reports is a scoring thread that died or could not be replaced.
      ...(logger ? { log: logger.at('warn') } : {}),
      group: this.threads,
    });
  }

  /**
   * What is known about a shard job for its log lines: the job, and from its payload (checked
   * again, it may be forged) the run, attempt and shard, plus the model once its run's plan is
   * loaded here.
   */
  fieldsOf(job: Job): LogFields {
    const parsed = shardJobSchema.safeParse(job.data);
    if (!parsed.success) return { jobId: String(job.id) };
    const { runId, attempt, shard } = parsed.data;
    const model = this.runs.get(`${runId}|${attempt}`)?.plan.model;
    return { runId, attempt, shard: shard.index, jobId: String(job.id), ...(model ? { model: `${model.name}-${model.version}` } : {}) };
  }

  /** BullMQ processor for the shard queue. */
  readonly process = async (job: Job): Promise<ShardOutcome> => {
    try {
      const data = parseJobData(shardJobSchema, job.data, job.id);
      const context = await this.contextFor(job, data);
      // Logged once the plan is known, so the line names the model too.
      this.options.logger?.info(`shard job ${job.id} started (attempt ${job.attemptsStarted})`, this.fieldsOf(job));
      const planned = context.plan.shards[data.shard.index];
      if (!planned || canonicalJson(planned) !== canonicalJson({ ...data.shard, fileSize: planned.fileSize })) {
        throw new ChurnError('INVALID_ARGUMENT', `shard job ${job.id} describes a shard its run's plan does not have; it was not scored`, { details: { jobId: job.id } });
      }
      const executor = await this.executorOf(`${data.runId}|${data.attempt}`, context, data.attempt);
      let reported = 0;
      const { model } = context.plan;
      const { observer } = this.options;
      const outcome = await executor.score(planned, (rows, batch) => {
        if (batch) observer?.batchScored(model, batch);
        // A progress write per second at most: it is a Redis round trip.
        if (Date.now() - reported < 1000) return;
        reported = Date.now();
        void job.updateProgress({ rowsDone: rows, rowsTotal: planned.rows }).catch(() => undefined);
      });
      observer?.shardDone(model, outcome);
      return outcome;
    } catch (error) {
      throw await queueFailure(job, error);
    }
  };

  /** Stops every scoring thread now, without waiting for their shards (the drain deadline passed). */
  async terminate(): Promise<void> {
    this.runs.clear();
    await this.threads.terminateAll();
  }

  async close(): Promise<void> {
    const runs = [...this.runs.values()];
    this.runs.clear();
    await Promise.all(runs.map((r) => r.executor?.then((x) => x.close(), () => undefined)));
  }
}
