import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ChurnError } from '@churn/errors';
import type { ShardOutcome } from '@churn/warehouse';

/**
 * What readiness needs, each a named condition: `accepting` (started and not draining), `redis`
 * (the queue connection is up), `model` (the device loaded a model at start). The worker is
 * ready (`/healthz` 200) only when every condition holds; a new condition is one more name here.
 */
export const READINESS_CONDITIONS = ['accepting', 'redis', 'model'] as const;
export type ReadinessCondition = (typeof READINESS_CONDITIONS)[number];

/** Where each input row of a shard ends: they add up to the rows read, with no overlap. */
export const ROW_OUTCOMES = ['scored', 'quarantined', 'ineligible'] as const;

/** The model a shard ran, as labels: `model_name`, `model_version` (the score table's columns). */
export interface ModelLabels {
  name: string;
  version: string;
}

const modelLabels = (model: ModelLabels) => ({ model_name: model.name, model_version: model.version });

/**
 * Prometheus metrics of one worker process, and the HTTP endpoint serving them. Row counters
 * count what this worker scored, when it finished scoring a shard (a shard whose lock was lost
 * meanwhile is counted again by the worker that scores it again). Names follow Prometheus
 * conventions (`_total` counters, `_seconds` durations, `_info` for a labelled constant 1).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly rows = new Counter({
    name: 'churn_worker_rows_total',
    help: 'Input rows of finished shards by outcome (scored, quarantined, ineligible: they add up to the rows read)',
    labelNames: ['model_name', 'model_version', 'outcome'],
    registers: [this.registry],
  });
  private readonly explained = new Counter({
    name: 'churn_worker_explained_rows_total',
    help: 'Scored rows that carry explanations (a part of the scored rows, counted on their own)',
    labelNames: ['model_name', 'model_version'],
    registers: [this.registry],
  });
  private readonly evaluations = new Counter({
    name: 'churn_worker_model_evaluations_total',
    help: 'Model evaluations spent on explanations',
    labelNames: ['model_name', 'model_version'],
    registers: [this.registry],
  });
  private readonly shards = new Counter({ name: 'churn_worker_shards_total', help: 'Shards this worker finished scoring', labelNames: ['model_name', 'model_version'], registers: [this.registry] });
  private readonly shardSeconds = new Histogram({
    name: 'churn_worker_shard_duration_seconds',
    help: 'Time to score one shard (read, validate, features, inference, explanations, write)',
    labelNames: ['model_name', 'model_version'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly batchSeconds = new Histogram({
    name: 'churn_worker_inference_batch_duration_seconds',
    help: 'Model inference time of one batch (ONNX Runtime session run)',
    labelNames: ['model_name', 'model_version', 'provider'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly batchRows = new Counter({
    name: 'churn_worker_inference_rows_total',
    help: 'Rows the model scored in inference batches (with the batch histogram: rows per second of inference)',
    labelNames: ['model_name', 'model_version', 'provider'],
    registers: [this.registry],
  });
  private readonly failures = new Counter({ name: 'churn_worker_shard_failures_total', help: 'Failed shard jobs by error code', labelNames: ['code'], registers: [this.registry] });
  private readonly provider = new Gauge({ name: 'churn_worker_execution_provider_info', help: 'Execution provider the model runs on (1 for the one in use)', labelNames: ['provider'], registers: [this.registry] });
  private readonly conditions = new Map<ReadinessCondition, boolean>(READINESS_CONDITIONS.map((c) => [c, false]));
  private providerInUse: string | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The execution provider in use (known at start for an explicit device, else from the first shard). */
  providerIs(provider: string): void {
    if (provider === this.providerInUse) return;
    this.providerInUse = provider;
    this.provider.reset();
    this.provider.set({ provider }, 1);
  }

  /** One inference batch of a shard of `model`. */
  batchScored(model: ModelLabels, batch: { rows: number; ms: number }): void {
    const labels = { ...modelLabels(model), provider: this.providerInUse ?? 'unknown' };
    this.batchSeconds.observe(labels, batch.ms / 1000);
    this.batchRows.inc(labels, batch.rows);
  }

  shardDone(model: ModelLabels, outcome: ShardOutcome): void {
    const labels = modelLabels(model);
    this.providerIs(outcome.device);
    const counts: Record<(typeof ROW_OUTCOMES)[number], number> = { scored: outcome.rowsScored, quarantined: outcome.rowsQuarantined, ineligible: outcome.rowsIneligible };
    for (const kind of ROW_OUTCOMES) this.rows.inc({ ...labels, outcome: kind }, counts[kind]);
    this.explained.inc(labels, outcome.rowsExplained);
    this.evaluations.inc(labels, outcome.modelEvaluations);
    this.shards.inc(labels);
    this.shardSeconds.observe(labels, (outcome.timingsMs['totalMs'] ?? 0) / 1000);
  }

  shardFailed(code: string): void {
    this.failures.inc({ code });
  }

  /** Sets one readiness condition; all start unmet. */
  markReady(condition: ReadinessCondition, met: boolean): void {
    this.conditions.set(condition, met);
  }

  get ready(): boolean {
    return [...this.conditions.values()].every(Boolean);
  }

  /**
   * `/metrics` (Prometheus text format), `/healthz` (readiness: 200 when every condition holds,
   * 503 otherwise, with the conditions in the body) and `/livez` (liveness: 200 while the
   * process serves at all). A port that cannot be bound is `IO_ERROR` naming the port.
   */
  listen(port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url === '/metrics') {
        this.registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(body);
          },
          (error: unknown) => {
            res.writeHead(500);
            res.end(String(error));
          },
        );
      } else if (req.url === '/healthz') {
        res.writeHead(this.ready ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ready: this.ready, conditions: Object.fromEntries(this.conditions) }));
      } else if (req.url === '/livez') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ live: true }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    return new Promise((resolve, reject) => {
      server.once('error', (cause: NodeJS.ErrnoException) => {
        const why = cause.code === 'EADDRINUSE' ? 'it is already in use' : cause.code === 'EACCES' ? 'permission denied' : cause.message;
        reject(new ChurnError('IO_ERROR', `cannot serve metrics on port ${port}: ${why}; choose another port or stop the process holding it`, { cause, details: { port, errno: cause.code }, settings: ['metricsPort'] }));
      });
      server.listen(port, () => resolve(server));
    });
  }
}
