import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ShardOutcome } from '@churn/warehouse';

/** Prometheus metrics of one worker process, and the HTTP endpoint serving them. */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly rows = new Counter({ name: 'churn_rows_total', help: 'Input rows by outcome', labelNames: ['outcome'], registers: [this.registry] });
  private readonly shardSeconds = new Histogram({
    name: 'churn_shard_duration_seconds',
    help: 'Time to score one shard',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly inferSeconds = new Histogram({
    name: 'churn_shard_inference_seconds',
    help: 'Model inference time per shard (all batches, explanations excluded)',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  });
  private readonly failures = new Counter({ name: 'churn_shard_failures_total', help: 'Failed shard jobs by error kind', labelNames: ['kind'], registers: [this.registry] });
  private readonly device = new Gauge({ name: 'churn_execution_provider', help: 'Execution provider in use (1 for the active one)', labelNames: ['device'], registers: [this.registry] });
  private ready = false;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  shardDone(outcome: ShardOutcome): void {
    this.rows.inc({ outcome: 'scored' }, outcome.rowsScored);
    this.rows.inc({ outcome: 'quarantined' }, outcome.rowsQuarantined);
    this.rows.inc({ outcome: 'ineligible' }, outcome.rowsIneligible);
    this.rows.inc({ outcome: 'explained' }, outcome.rowsExplained);
    this.shardSeconds.observe((outcome.timingsMs['totalMs'] ?? 0) / 1000);
    this.inferSeconds.observe((outcome.timingsMs['inferMs'] ?? 0) / 1000);
    this.device.reset();
    this.device.set({ device: outcome.device }, 1);
  }

  shardFailed(kind: string): void {
    this.failures.inc({ kind });
  }

  markReady(ready: boolean): void {
    this.ready = ready;
  }

  /** `/metrics` (Prometheus text format) and `/healthz` (200 while taking jobs, 503 otherwise). */
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
        res.end(JSON.stringify({ ready: this.ready }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => resolve(server));
    });
  }
}
