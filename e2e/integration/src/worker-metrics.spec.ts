/**
 * Worker metrics against the real Redis (issue 12): a worker with a metrics port scores a run
 * of dirty data; its /metrics then counts every input row once by outcome (scored,
 * quarantined, ineligible: they add up to the rows read), explained rows on their own, with
 * model name and version labels, the execution provider as an `_info` metric, and one
 * inference-time observation per batch, matching the run's committed summary.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runStatusSchema } from '@churn/jobs';
import { churn, freePort, startChurn, type ChurnProcess } from './support/churn-cli';
import { deleteQueueKeys } from './support/queue-keys';

/** One sample of a Prometheus text exposition: `name{labels} value`, labels as written. */
function sample(body: string, name: string, labels = ''): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Every series of a metric: its label text and value. */
function series(body: string, name: string): { labels: string; value: number }[] {
  return body
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => ({ labels: l.slice(name.length + 1, l.indexOf('}')), value: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
}

describe('worker metrics over the real Redis', () => {
  let dir: string;
  const processes: ChurnProcess[] = [];
  const prefix = `churn-e2e-wm-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-wm-'));
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await deleteQueueKeys(prefix);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('counts rows by outcome without overlap, explained rows apart, per model, with the provider and per-batch inference time', async () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:6379', CHURN_QUEUE_PREFIX: prefix, CHURN_ALLOWED_LOCATIONS: `file://${dir}/,file://${path.resolve(__dirname, '..', '..', '..', 'models')}/` };
    const data = path.join(dir, 'data');
    expect((await churn(['synth', '--customers', '12000', '--as-of', '2026-05-01', '--out', data, '--files', '2', '--seed', '5', '--dirty', '0.01'])).code).toBe(0);
    const port = await freePort();
    const worker = startChurn(['worker', '--concurrency', '1', '--device', 'cpu', '--metrics-port', String(port)], env);
    const producer = startChurn(['producer'], env);
    processes.push(worker, producer);
    await Promise.all([worker.waitFor('worker ready'), producer.waitFor('producer ready')]);
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const before = await scrape();
    expect(sample(before, 'churn_worker_execution_provider_info', 'provider="cpu"')).toBe(1);
    expect(series(before, 'churn_worker_rows_total')).toEqual([]);

    // Small batches, so every shard runs several inference batches; the dirty data's file with
    // a column of the wrong type is quarantined whole instead of failing its shards.
    const run = await churn(['run', '--dataset', data, '--output', path.join(dir, 'scores'), '--shard-rows', '3000', '--batch-rows', '1000', '--explain', 'band:high', '--max-bad-fraction', '1', '--wait', '--timeout', '100'], { env });
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    const summary = runStatusSchema.parse(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).summary!;
    expect(summary.rowsQuarantined).toBeGreaterThan(0);
    expect(summary.rowsExplained).toBeGreaterThan(0);

    const body = await scrape();
    const m = 'model_name="churn-mlp",model_version="1.0.0"';
    const rows = series(body, 'churn_worker_rows_total');
    expect(rows).toEqual([
      { labels: `${m},outcome="scored"`, value: summary.rowsScored },
      { labels: `${m},outcome="quarantined"`, value: summary.rowsQuarantined },
      { labels: `${m},outcome="ineligible"`, value: summary.rowsIneligible },
    ]);
    // No overlap: a sum over the outcomes is the rows read.
    expect(rows.reduce((a, r) => a + r.value, 0)).toBe(summary.rowsRead);
    expect(sample(body, 'churn_worker_explained_rows_total', m)).toBe(summary.rowsExplained);
    expect(sample(body, 'churn_worker_model_evaluations_total', m)).toBe(summary.modelEvaluations);
    expect(sample(body, 'churn_worker_shards_total', m)).toBe(summary.shards);
    expect(sample(body, 'churn_worker_shard_duration_seconds_count', m)).toBe(summary.shards);
    // One observation per inference batch: every row the model scored went through one.
    const p = `${m},provider="cpu"`;
    const inferred = summary.rowsScored + (summary.quarantineReasons['model_output_invalid'] ?? 0);
    expect(sample(body, 'churn_worker_inference_rows_total', p)).toBe(inferred);
    const batches = sample(body, 'churn_worker_inference_batch_duration_seconds_count', p)!;
    expect(batches).toBeGreaterThanOrEqual(Math.ceil(inferred / 1000));
    expect(sample(body, 'churn_worker_inference_batch_duration_seconds_sum', p)).toBeGreaterThan(0);
    expect(sample(body, 'churn_worker_execution_provider_info', 'provider="cpu"')).toBe(1);
    expect(series(body, 'churn_worker_shard_failures_total')).toEqual([]);
  });
});
