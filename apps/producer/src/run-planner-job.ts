import { FlowProducer, UnrecoverableError, type Job } from 'bullmq';
import { ChurnError, isChurnError } from '@churn/errors';
import {
  commitJobSchema,
  defaultJobOptions,
  jobIds,
  parseJobData,
  QUEUES,
  requestRun,
  runRequestSchema,
  scheduleTickSchema,
  type CommitJob,
  type QueueConnection,
  type ShardJob,
} from '@churn/jobs';
import { loadBundle, modelId } from '@churn/model-bundle';
import type { ObjectStore } from '@churn/object-store';
import { commitRun, inputFilesOf, planShards, readRunFooters, resolveExplainConfig, resolveRun, summarizeExplain } from '@churn/scoring';
import { beginPartition, partitionLayout, type RunManifest, type ShardOutcome } from '@churn/warehouse';

function unrecoverable(error: unknown): never {
  if (isChurnError(error) && !error.retryable) throw new UnrecoverableError(`${error.code}: ${error.message}`);
  throw error;
}

/**
 * Plans a run request into one BullMQ flow: a parent `commit` job and one child per shard, with
 * ids derived from the run id (a second plan of the same run adds nothing). A failed shard fails
 * the parent (failParentOnFailure), so no run waits for children forever.
 */
export async function planRunJob(store: ObjectStore, conn: QueueConnection, job: Job): Promise<{ runId: string; shards: number }> {
  try {
    const request = parseJobData(runRequestSchema, job.data, job.id);
    const run = await resolveRun(store, { input: request.dataset, asOf: request.asOf, model: request.model, output: request.output });
    if (run.runId !== request.runId) {
      throw new ChurnError('INVALID_ARGUMENT', `run request ${request.runId} resolves to run ${run.runId}: the bundle or partition changed since it was enqueued`);
    }
    const footers = await readRunFooters(store, run);
    const shards = planShards(footers, request.shardRows);
    await beginPartition(store, run.layout);
    const startedAt = new Date().toISOString();
    const sha = run.bundle.manifest.model.sha256;
    const commit: CommitJob = {
      runId: run.runId,
      asOf: run.partition.asOf,
      model: run.bundle.uri,
      modelSha256: sha,
      output: run.output,
      partition: run.partition.partitionUri,
      inputFiles: inputFilesOf(footers),
      shards: shards.length,
      shardSpecs: shards,
      priorOutcomes: [],
      shardRows: request.shardRows,
      settings: request.settings,
      startedAt,
    };
    const flows = new FlowProducer({ connection: conn.connection, prefix: conn.prefix });
    try {
      await flows.add({
        name: 'commit',
        queueName: QUEUES.commits,
        data: commit,
        opts: { ...defaultJobOptions(), jobId: jobIds.commit(run.runId), ...(job.opts.priority ? { priority: job.opts.priority } : {}) },
        children: shards.map((shard) => ({
          name: 'shard',
          queueName: QUEUES.shards,
          data: { runId: run.runId, asOf: run.partition.asOf, model: run.bundle.uri, modelSha256: sha, output: run.output, scoredAt: startedAt, shard, settings: request.settings } satisfies ShardJob,
          opts: { ...defaultJobOptions(), jobId: jobIds.shard(run.runId, shard.index), failParentOnFailure: true, ...(job.opts.priority ? { priority: job.opts.priority } : {}) },
        })),
      });
    } finally {
      await flows.close();
    }
    return { runId: run.runId, shards: shards.length };
  } catch (error) {
    unrecoverable(error);
  }
}

/**
 * Commits a run once all its shards are done: every shard reported, outputs exist with the
 * reported counts (commitRun), `_manifest.json` then `_SUCCESS`.
 */
export async function commitRunJob(store: ObjectStore, job: Job): Promise<Record<string, unknown>> {
  try {
    const data = parseJobData(commitJobSchema, job.data, job.id);
    const outcomes = [...(data.priorOutcomes as unknown as ShardOutcome[]), ...(Object.values(await job.getChildrenValues()) as ShardOutcome[])];
    if (outcomes.length !== data.shards) {
      throw new ChurnError('COMMIT_FAILED', `run ${data.runId} has ${outcomes.length} of ${data.shards} shard results; not committed`);
    }
    const bundle = await loadBundle(store, data.model);
    if (bundle.manifest.model.sha256 !== data.modelSha256) {
      throw new ChurnError('INVALID_BUNDLE', `bundle ${data.model} changed while run ${data.runId} was scoring; not committed`);
    }
    const id = modelId(bundle.manifest);
    const manifest: RunManifest = await commitRun(store, {
      run: {
        bundle,
        partition: { asOf: data.asOf, partitionUri: data.partition, files: data.inputFiles.map((f) => ({ uri: f.uri, size: f.size })) },
        runId: data.runId,
        modelId: id,
        output: data.output,
        layout: partitionLayout(data.output, data.asOf, id),
      },
      inputFiles: data.inputFiles,
      outcomes,
      explain: summarizeExplain(resolveExplainConfig(bundle.manifest, data.settings.explain)),
      settings: { shardRows: data.shardRows, mode: 'distributed', ...data.settings },
      startedAt: new Date(data.startedAt),
    });
    const seconds = (Date.now() - Date.parse(data.startedAt)) / 1000;
    return {
      runId: manifest.runId,
      asOf: manifest.asOf,
      model: id,
      rowsRead: manifest.rowsRead,
      rowsScored: manifest.rowsScored,
      rowsQuarantined: manifest.rowsQuarantined,
      rowsIneligible: manifest.rowsIneligible,
      rowsExplained: manifest.rowsExplained,
      rowsPerSecond: Math.round(manifest.rowsRead / Math.max(seconds, 1e-3)),
      seconds,
      shards: manifest.shards.length,
      device: manifest.device,
      output: manifest.output,
    };
  } catch (error) {
    unrecoverable(error);
  }
}

/**
 * A schedule tick: resolves the newest partition (or the tick date's) and requests that run.
 * Scheduled runs get priority 1, ahead of backfills; a tick for an already enqueued run adds
 * nothing.
 */
export async function scheduleTickJob(store: ObjectStore, conn: QueueConnection, job: Job): Promise<{ runId: string; enqueued: boolean }> {
  try {
    const tick = parseJobData(scheduleTickSchema, job.data, job.id);
    const asOf = tick.asOf === 'tick' ? new Date(job.timestamp).toISOString().slice(0, 10) : undefined;
    const { runId, enqueued } = await requestRun(conn, store, {
      dataset: tick.dataset,
      model: tick.model,
      output: tick.output,
      shardRows: tick.shardRows,
      settings: tick.settings,
      priority: 1,
      ...(asOf ? { asOf } : {}),
    });
    return { runId, enqueued };
  } catch (error) {
    unrecoverable(error);
  }
}
