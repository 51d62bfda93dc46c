import type { AddressInfo } from 'node:net';
import type { ShardOutcome } from '@churn/warehouse';
import { WorkerMetrics } from './worker-metrics';

const outcome = { rowsScored: 80, rowsQuarantined: 3, rowsIneligible: 17, rowsExplained: 9, device: 'cpu', timingsMs: { totalMs: 1500, inferMs: 40 } } as unknown as ShardOutcome;

describe('WorkerMetrics', () => {
  it('serves row counts, shard durations, failures and the device on /metrics, and health on /healthz', async () => {
    const metrics = new WorkerMetrics();
    metrics.shardDone(outcome);
    metrics.shardDone(outcome);
    metrics.shardFailed('CONTRACT_VIOLATION');
    const server = await metrics.listen(0);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
      metrics.markReady(true);
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ready: true });
      const body = await (await fetch(`${base}/metrics`)).text();
      expect(body).toContain('churn_rows_total{outcome="scored"} 160');
      expect(body).toContain('churn_rows_total{outcome="quarantined"} 6');
      expect(body).toContain('churn_rows_total{outcome="ineligible"} 34');
      expect(body).toContain('churn_shard_duration_seconds_count 2');
      expect(body).toContain('churn_shard_failures_total{kind="CONTRACT_VIOLATION"} 1');
      expect(body).toContain('churn_execution_provider{device="cpu"} 1');
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
