import type { Job } from 'bullmq';
import { ChurnError } from '@churn/errors';
import {
  addRunFlow,
  commitJobSchema,
  parseJobData,
  planJobSchema,
  queueFailure,
  requestRun,
  scheduleTickSchema,
  type QueueConnection,
  type RunRequestResult,
} from '@churn/jobs';
import type { LogFields, Logger } from '@churn/logging';
import { loadBundle, modelId } from '@churn/model-bundle';
import type { LocationPolicy, ObjectStore } from '@churn/object-store';
import { commitRun, identifyRun, parseOutcomes, parsePlan, planFromFooters, readRunFooters, summarizeRun, type RunPlan, type RunSummary } from '@churn/scoring';
import { acquireLease, tableLayout, type RunPublisher } from '@churn/warehouse';
import { postgresPublisher, warehouseTarget, warehouseTargetFromEnv } from '@churn/warehouse-pg';

export interface ProducerContext {
  store: ObjectStore;
  conn: QueueConnection;
  locations: LocationPolicy;
  leaseTimeoutMs: number;
  /** Price per device-hour for runs whose request named none (CHURN_PRICE_PER_DEVICE_HOUR). */
  pricePerDeviceHour?: number;
  /** The producer's logger; each job's lines carry its run, attempt and model (fieldsOfJob). */
  logger: Logger;
}

/**
 * What a producer job's log lines say about it: the job, and from its payload (schema-checked,
 * it came from Redis) the run, the attempt and, once planned, the model. A payload that does
 * not parse gives the job id alone; its processor fails it with the reason.
 */
export function fieldsOfJob(job: Pick<Job, 'id' | 'data'> | undefined): LogFields {
  if (!job) return {};
  const jobId = String(job.id);
  const commit = commitJobSchema.safeParse(job.data);
  if (commit.success) return { jobId, runId: commit.data.plan.runId, attempt: commit.data.attempt, model: modelId(commit.data.plan.model) };
  const plan = planJobSchema.safeParse(job.data);
  if (plan.success) return { jobId, runId: plan.data.runId, attempt: plan.data.attempt };
  return { jobId };
}

/** The locations a run touches must all be allowed here. */
export function checkLocations(locations: LocationPolicy, where: { dataset: string; model: string; output: string }): void {
  locations.check(where.dataset, 'dataset');
  locations.check(where.model, 'model bundle');
  locations.check(where.output, 'output');
}

function leaseUriOf(plan: Pick<RunPlan, 'output' | 'partition' | 'model'>): string {
  return tableLayout(plan.output).partition(plan.partition.asOf, `${plan.model.name}-${plan.model.version}`).leaseUri;
}

/**
 * Plans one attempt of a requested run into a BullMQ flow with the same planRun halves embedded
 * mode uses, after taking the partition's lease (before any shard writes). The request must
 * still resolve to the requested run id: a bundle changed since is refused.
 */
export async function planRunJob(ctx: ProducerContext, job: Job): Promise<{ runId: string; attempt: number; model: string; shards: number }> {
  try {
    const data = parseJobData(planJobSchema, job.data, job.id);
    checkLocations(ctx.locations, data.request);
    const run = await identifyRun(ctx.store, data.request);
    if (run.runId !== data.runId) {
      throw new ChurnError('INVALID_BUNDLE', `run ${data.runId} now resolves to run ${run.runId}: its bundle or settings changed since it was requested; request it again`, { details: { requested: data.runId, resolved: run.runId } });
    }
    checkLocations(ctx.locations, { dataset: run.partition.partitionUri, model: run.bundle.uri, output: run.identity.output });
    const plan = planFromFooters(run, await readRunFooters(ctx.store, run));
    const model = modelId(plan.model);
    // What acquireLease reports is a stale lease it broke.
    const log = ctx.logger.child({ ...fieldsOfJob(job), model }).at('warn');
    await acquireLease(ctx.store, leaseUriOf(plan), { runId: plan.runId, attempt: data.attempt, timeoutMs: ctx.leaseTimeoutMs, log });
    await addRunFlow(ctx.conn, { plan, attempt: data.attempt, shards: plan.shards, startedAt: new Date(), ...(job.opts.priority ? { priority: job.opts.priority } : {}) });
    return { runId: plan.runId, attempt: data.attempt, model, shards: plan.shards.length };
  } catch (error) {
    throw await queueFailure(job, error);
  }
}

/**
 * Where a committed run is published: the warehouse its request names (a URL without a
 * password; PGPASSWORD or ~/.pgpass here supply it), else this producer's CHURN_WAREHOUSE_URL,
 * else nowhere.
 */
export function publishersFor(plan: RunPlan, env: NodeJS.ProcessEnv = process.env): RunPublisher[] {
  const requested = plan.execution.warehouse;
  const target = requested ? warehouseTarget({ url: requested.url, ...(requested.schema ? { schema: requested.schema } : {}) }) : warehouseTargetFromEnv({}, env);
  return target ? [postgresPublisher(target)] : [];
}

/**
 * Commits a run attempt once all its shards are done, with the same commitRun as embedded mode.
 * It trusts its plan only after checking the plan's identity gives its run id, the bundle's
 * digest is the planned one, and every location is allowed; outcomes are schema-checked and
 * then verified against the staged files.
 */
export async function commitRunJob(ctx: ProducerContext, job: Job): Promise<RunSummary> {
  try {
    const data = parseJobData(commitJobSchema, job.data, job.id);
    const plan = parsePlan(data.plan, `job ${job.id}`);
    checkLocations(ctx.locations, { dataset: plan.partition.uri, model: plan.model.bundle, output: plan.output });
    const outcomes = parseOutcomes([...data.priorOutcomes, ...Object.values(await job.getChildrenValues())]);
    const bundle = await loadBundle(ctx.store, plan.model.bundle, plan.model.digest);
    const logger = ctx.logger.child(fieldsOfJob(job));
    const lease = await acquireLease(ctx.store, leaseUriOf(plan), { runId: plan.runId, attempt: data.attempt, timeoutMs: ctx.leaseTimeoutMs, log: logger.at('warn') });
    try {
      const started = new Date(data.startedAt);
      const { manifest, published } = await commitRun(plan, outcomes, {
        store: ctx.store,
        bundle,
        attempt: data.attempt,
        lease,
        execution: { mode: 'distributed' },
        startedAt: started,
        ...(ctx.pricePerDeviceHour === undefined ? {} : { pricePerDeviceHour: ctx.pricePerDeviceHour }),
        publishers: publishersFor(plan),
        log: logger.at('info'),
      });
      return summarizeRun(plan, manifest, { mode: 'distributed', seconds: (Date.now() - started.getTime()) / 1000, published });
    } finally {
      await lease.release();
    }
  } catch (error) {
    throw await queueFailure(job, error);
  }
}

/**
 * A schedule tick: resolves the newest partition (or the tick date's) and requests that run.
 * Scheduled runs get priority 1, ahead of backfills; a tick for a run already in progress or
 * committed with the same input adds nothing.
 */
export async function scheduleTickJob(ctx: ProducerContext, job: Job): Promise<RunRequestResult> {
  try {
    const tick = parseJobData(scheduleTickSchema, job.data, job.id);
    checkLocations(ctx.locations, tick.request);
    const asOf = tick.asOf === 'tick' ? new Date(job.timestamp).toISOString().slice(0, 10) : undefined;
    return await requestRun(ctx.conn, ctx.store, { ...tick.request, ...(asOf ? { asOf } : {}) }, { priority: 1 });
  } catch (error) {
    throw await queueFailure(job, error);
  }
}
