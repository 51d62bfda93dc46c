/**
 * Producer metrics against the real Redis (issue 12): with runs planned and no worker running,
 * the producer's /metrics shows the shard backlog (including the prioritized jobs of a
 * backfill-priority run), runs by state and a planning failure; once a worker starts, the
 * backlog drains to zero and both runs are committed, with commit durations and the last
 * commit time of the model.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { churn, freePort, startChurn, type ChurnProcess } from './support/churn-cli';
import { deleteQueueKeys } from './support/queue-keys';

/** One sample of a Prometheus text exposition: `name{labels} value`, labels as written. */
function sample(body: string, name: string, labels = ''): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('producer metrics over the real Redis', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let metricsUrl: string;
  const processes: ChurnProcess[] = [];
  const prefix = `churn-e2e-pm-${process.pid}-${Date.now()}`;

  const scrape = async () => (await fetch(`${metricsUrl}/metrics`)).text();
  /** Scrapes until `done` holds (the producer plans and commits asynchronously). */
  async function scrapeUntil(done: (body: string) => boolean, what: string): Promise<string> {
    let body = '';
    for (let i = 0; i < 240; i++) {
      body = await scrape();
      if (done(body)) return body;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`metrics never showed ${what}:\n${body.split('\n').filter((l) => l.startsWith('churn_')).join('\n')}`);
  }

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-pm-'));
    env = { REDIS_URL: 'redis://127.0.0.1:6379', CHURN_QUEUE_PREFIX: prefix, CHURN_ALLOWED_LOCATIONS: `file://${dir}/,file://${path.resolve(__dirname, '..', '..', '..', 'models')}/` };
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await deleteQueueKeys(prefix);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('shows the queued shard backlog, prioritized jobs included, and drains it to zero once a worker runs', async () => {
    const data = path.join(dir, 'data');
    const output = path.join(dir, 'scores');
    for (const day of ['2026-03-01', '2026-03-02', '2026-03-03']) {
      expect((await churn(['synth', '--customers', '6000', '--as-of', day, '--out', data, '--files', '2', '--seed', day.slice(-1)])).code).toBe(0);
    }
    const run = (asOf: string, extra: string[] = []) => churn(['run', '--dataset', data, '--as-of', asOf, '--output', output, '--shard-rows', '1000', ...extra], { env });
    // Requested before any producer runs: the plan jobs wait in Redis.
    expect((await run('2026-03-01', ['--priority', '10'])).code).toBe(0); // a backfill's priority
    expect((await run('2026-03-02')).code).toBe(0);
    expect((await run('2026-03-03')).code).toBe(0);
    // Its partition disappears before it is planned: planning fails (INPUT_NOT_FOUND).
    await fs.rm(path.join(data, 'as_of=2026-03-03'), { recursive: true });

    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}`;
    const producer = startChurn(['producer', '--metrics-port', String(port)], env);
    processes.push(producer);
    await producer.waitFor('producer ready');
    expect((await fetch(`${metricsUrl}/livez`)).status).toBe(200);
    expect(await (await fetch(`${metricsUrl}/healthz`)).json()).toEqual({ ready: true, redis: true });

    const p = `prefix="${prefix}"`;
    const planned = await scrapeUntil((b) => sample(b, 'churn_plans_total') === 2 && sample(b, 'churn_plan_failures_total', 'code="INPUT_NOT_FOUND"') === 1, 'two plans and one planning failure');
    const shards = sample(planned, 'churn_planned_shards_total')!;
    expect(shards).toBeGreaterThanOrEqual(4);
    // No worker: every shard job is still queued. The priority-10 run's shards are in the
    // prioritized set, the other run's in the wait list; the backlog counts both.
    const prioritized = sample(planned, 'churn_queue_jobs', `${p},queue="churn-shards",state="prioritized"`)!;
    const waiting = sample(planned, 'churn_queue_jobs', `${p},queue="churn-shards",state="waiting"`)!;
    expect(prioritized).toBeGreaterThan(0);
    expect(waiting).toBeGreaterThan(0);
    expect(prioritized + waiting).toBe(shards);
    expect(sample(planned, 'churn_shard_backlog_jobs', p)).toBe(shards);
    expect(sample(planned, 'churn_queue_jobs', `${p},queue="churn-commits",state="waiting-children"`)).toBe(2);
    expect(sample(planned, 'churn_runs', `${p},state="running"`)).toBe(2);
    expect(sample(planned, 'churn_runs', `${p},state="failed"`)).toBe(1);
    expect(sample(planned, 'churn_runs', `${p},state="committed"`)).toBe(0);

    const startedAt = Date.now() / 1000;
    processes.push(startChurn(['worker', '--concurrency', '1', '--device', 'cpu'], env));
    const drained = await scrapeUntil((b) => sample(b, 'churn_runs', `${p},state="committed"`) === 2, 'both runs committed');
    expect(sample(drained, 'churn_shard_backlog_jobs', p)).toBe(0);
    expect(sample(drained, 'churn_queue_jobs', `${p},queue="churn-shards",state="completed"`)).toBe(shards);
    expect(sample(drained, 'churn_runs', `${p},state="running"`)).toBe(0);
    expect(sample(drained, 'churn_commits_total', 'model="churn-mlp-1.0.0"')).toBe(2);
    expect(sample(drained, 'churn_commit_duration_seconds_count', 'model="churn-mlp-1.0.0"')).toBe(2);
    const last = sample(drained, 'churn_last_commit_timestamp_seconds', 'model="churn-mlp-1.0.0"')!;
    expect(last).toBeGreaterThanOrEqual(Math.floor(startedAt));
    expect(last).toBeLessThanOrEqual(Date.now() / 1000);

    // A restarted producer seeds the last commit time from the commit jobs kept in Redis.
    await producer.stop();
    const again = startChurn(['producer', '--metrics-port', String(port)], env);
    processes.push(again);
    await again.waitFor('producer ready');
    const seeded = await scrape();
    expect(sample(seeded, 'churn_last_commit_timestamp_seconds', 'model="churn-mlp-1.0.0"')).toBeCloseTo(last, 3);
    expect(sample(seeded, 'churn_commits_total', 'model="churn-mlp-1.0.0"')).toBeUndefined();
  });
});
