import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ProducerMetrics } from './producer-metrics';

// Queue depths need Redis: e2e/integration/src/producer-metrics.spec.ts covers them. Here, the
// hooks the producer calls and the endpoints, without queues.
describe('ProducerMetrics', () => {
  let server: Server;
  let base: string;
  const metrics = new ProducerMetrics();

  beforeAll(async () => {
    server = await metrics.listen(0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await metrics.close();
  });

  it('counts plans and planning failures by error code', async () => {
    metrics.planCompleted({ shards: 4 });
    metrics.planCompleted({ shards: 3 });
    metrics.planFailed('INPUT_NOT_FOUND');
    metrics.planFailed('INVALID_BUNDLE');
    metrics.commitFailed('INTERNAL');
    const body = await (await fetch(`${base}/metrics`)).text();
    expect(body).toContain('churn_plans_total 2');
    expect(body).toContain('churn_planned_shards_total 7');
    expect(body).toContain('churn_plan_failures_total{code="INPUT_NOT_FOUND"} 1');
    expect(body).toContain('churn_plan_failures_total{code="INVALID_BUNDLE"} 1');
    expect(body).toContain('churn_commit_failures_total{code="INTERNAL"} 1');
    // Without a connection there are no queue series at all (never a made-up zero).
    expect(body).not.toContain('churn_shard_backlog_jobs');
    expect(body).not.toContain('churn_queue_jobs');
  });

  it('records commit duration and the last successful commit time per model', async () => {
    metrics.commitCompleted({ processedOn: 1_800_000_000_000, finishedOn: 1_800_000_004_500 }, { model: 'churn-mlp-1.0.0', rowsRead: 10 });
    metrics.commitCompleted({ processedOn: 1_800_000_100_000, finishedOn: 1_800_000_101_000 }, { model: 'churn-mlp-1.0.0' });
    metrics.commitCompleted({ processedOn: 1_800_000_000_000, finishedOn: 1_800_000_000_200 }, { model: 'churn-mlp-2.0.0' });
    metrics.commitCompleted({}, { no: 'model' });
    const body = await (await fetch(`${base}/metrics`)).text();
    expect(body).toContain('churn_commits_total{model="churn-mlp-1.0.0"} 2');
    expect(body).toContain('churn_commit_duration_seconds_sum{model="churn-mlp-1.0.0"} 5.5');
    expect(body).toContain('churn_commit_duration_seconds_bucket{le="5",model="churn-mlp-1.0.0"} 2');
    expect(body).toContain('churn_commit_duration_seconds_bucket{le="2.5",model="churn-mlp-1.0.0"} 1');
    expect(body).toContain('churn_last_commit_timestamp_seconds{model="churn-mlp-1.0.0"} 1800000101');
    expect(body).toContain('churn_last_commit_timestamp_seconds{model="churn-mlp-2.0.0"} 1800000000.2');
    expect(body).toContain('churn_commits_total{model="unknown"} 1');
  });

  it("shows the drift, the gate and the cost of each model's last committed run", async () => {
    const drifted = { model: 'churn-mlp-3.0.0', drift: { status: 'alert', alerts: ['mrr', 'score'], warnings: ['nps'] }, held: true, cost: { pricePerDeviceHour: 3, total: 0.01, perMillionRows: 0.25 } };
    metrics.commitCompleted({ finishedOn: 1_800_000_000_000 }, drifted);
    const first = await (await fetch(`${base}/metrics`)).text();
    expect(first).toContain('churn_last_run_drift_features{model="churn-mlp-3.0.0",status="alert"} 2');
    expect(first).toContain('churn_last_run_drift_features{model="churn-mlp-3.0.0",status="warn"} 1');
    expect(first).toContain('churn_last_run_held{model="churn-mlp-3.0.0"} 1');
    expect(first).toContain('churn_last_run_cost_per_million_rows{model="churn-mlp-3.0.0"} 0.25');
    // The next run is clean: the gauges follow the last run.
    metrics.commitCompleted({ finishedOn: 1_800_086_400_000 }, { model: 'churn-mlp-3.0.0', drift: { status: 'ok', alerts: [], warnings: [] }, held: false });
    const next = await (await fetch(`${base}/metrics`)).text();
    expect(next).toContain('churn_last_run_drift_features{model="churn-mlp-3.0.0",status="alert"} 0');
    expect(next).toContain('churn_last_run_held{model="churn-mlp-3.0.0"} 0');
  });

  it('is live at once and ready only once marked', async () => {
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const before = await fetch(`${base}/healthz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ ready: false, redis: true });
    metrics.markReady(true);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
