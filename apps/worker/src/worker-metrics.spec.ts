import type { AddressInfo } from 'node:net';
import { churnErrorOf } from '@churn/testing';
import { SCORE_BINS, shardOutcomeSchema } from '@churn/warehouse';
import { WorkerMetrics } from './worker-metrics';

const outcome = shardOutcomeSchema.parse({
  index: 0,
  attempt: 1,
  device: 'cpu',
  file: 'file:///data/as_of=2026-01-01/part-0.parquet',
  rowGroups: [0],
  firstRow: 0,
  rowsRead: 100,
  rowsScored: 80,
  rowsQuarantined: 3,
  rowsIneligible: 17,
  quarantineReasons: { null_required: 3 },
  bandCounts: { low: 80 },
  scoreHistogram: new Array<number>(SCORE_BINS).fill(4),
  scoreSum: 8,
  rowsExplained: 9,
  modelEvaluations: 100,
  timingsMs: { totalMs: 1500, inferMs: 40 },
});

describe('WorkerMetrics', () => {
  it('serves rows by outcome without overlap, explained rows on their own, model labels, durations, failures and the provider', async () => {
    const metrics = new WorkerMetrics();
    const model = { name: 'churn-mlp', version: '1.0.0' };
    metrics.batchScored(model, { rows: 50, ms: 12 });
    metrics.shardDone(model, outcome);
    metrics.shardDone(model, outcome);
    metrics.shardFailed('CONTRACT_VIOLATION');
    const server = await metrics.listen(0);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
      for (const condition of ['accepting', 'redis', 'model'] as const) metrics.markReady(condition, true);
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ready: true, conditions: { accepting: true, redis: true, model: true } });
      const body = await (await fetch(`${base}/metrics`)).text();
      const m = 'model_name="churn-mlp",model_version="1.0.0"';
      expect(body).toContain(`churn_worker_rows_total{${m},outcome="scored"} 160`);
      expect(body).toContain(`churn_worker_rows_total{${m},outcome="quarantined"} 6`);
      expect(body).toContain(`churn_worker_rows_total{${m},outcome="ineligible"} 34`);
      // Explained rows are a counter of their own: the outcomes add up to the rows read (200).
      expect(body).not.toMatch(/churn_worker_rows_total\{[^}]*outcome="explained"/);
      expect(body).toContain(`churn_worker_explained_rows_total{${m}} 18`);
      expect(body).toContain(`churn_worker_shards_total{${m}} 2`);
      expect(body).toContain(`churn_worker_shard_duration_seconds_count{${m}} 2`);
      // The batch came before any shard said which provider runs it.
      expect(body).toContain(`churn_worker_inference_batch_duration_seconds_count{${m},provider="unknown"} 1`);
      expect(body).toContain(`churn_worker_inference_rows_total{${m},provider="unknown"} 50`);
      expect(body).toContain('churn_worker_shard_failures_total{code="CONTRACT_VIOLATION"} 1');
      expect(body).toContain('churn_worker_execution_provider_info{provider="cpu"} 1');
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is ready only while every condition holds, and live regardless', async () => {
    const metrics = new WorkerMetrics();
    const server = await metrics.listen(0);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const condition of ['accepting', 'redis', 'model'] as const) metrics.markReady(condition, true);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      metrics.markReady('redis', false);
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ ready: false, conditions: { accepting: true, redis: false, model: true } });
      expect((await fetch(`${base}/livez`)).status).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fails with IO_ERROR naming the port when the port is taken', async () => {
    const first = await new WorkerMetrics().listen(0);
    const port = (first.address() as AddressInfo).port;
    try {
      const error = await churnErrorOf(() => new WorkerMetrics().listen(port));
      expect(error.code).toBe('IO_ERROR');
      expect(error.message).toContain(`port ${port}: it is already in use`);
      expect(error.settings).toEqual(['metricsPort']);
    } finally {
      await new Promise((resolve) => first.close(resolve));
    }
  });
});
