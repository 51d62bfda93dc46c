import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import { ChurnError } from '@churn/errors';
import { closeClients, QUEUES, type QueueConnection } from '@churn/jobs';

/** Job states reported per queue (`waiting` also brings BullMQ's `paused` list). */
export const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'waiting-children', 'completed'] as const;

/**
 * States counted in the shard backlog: jobs a worker must still score. Backfills are
 * prioritized jobs (a zset, not the wait list), so they count; delayed retries join `waiting`
 * when their backoff ends and count then.
 */
export const BACKLOG_STATES = ['waiting', 'prioritized', 'active'] as const;

/** Run states, as `churn status` names them, derived from the plan and commit queues. */
export const RUN_STATES = ['queued', 'running', 'committed', 'failed'] as const;

/** The part of a commit job's result the metrics read (the run summary names its model). */
/** The parts of a commit job's result (the run summary) the metrics read. */
const commitResultSchema = z.object({
  model: z.string().min(1),
  drift: z.object({ alerts: z.array(z.string()), warnings: z.array(z.string()) }).optional(),
  held: z.boolean().optional(),
  cost: z.object({ perMillionRows: z.number() }).optional(),
});

/** What a finished BullMQ job tells about its own timing (a `Job` satisfies it). */
export interface JobTiming {
  processedOn?: number | undefined;
  finishedOn?: number | undefined;
}

export interface ProducerMetricsOptions {
  /** Where the queues live; absent: no queue gauges (hooks only). */
  connection?: QueueConnection;
  /** Newest completed commit jobs read at start to seed the last-commit gauge (default 1000). */
  seedCommits?: number;
  /** How long /healthz waits for the first Redis connection (default 1000 ms). */
  healthTimeoutMs?: number;
}

type Counts = Record<string, number>;

/**
 * Prometheus metrics of a producer: queue depths read from Redis on each scrape (so every
 * producer reports the same, current numbers), the shard backlog the autoscaler scales workers
 * on, runs by state, and what this producer planned and committed. `listen` serves `/metrics`,
 * `/healthz` (ready and Redis answering) and `/livez` (the process is up).
 */
export class ProducerMetrics {
  readonly registry = new Registry();
  private readonly queues: Queue[];
  private ready = false;
  private reading: Promise<void> | undefined;
  private readonly queueJobs: Gauge;
  private readonly backlog: Gauge;
  private readonly runs: Gauge;
  private readonly readErrors: Counter;
  private readonly plans: Counter;
  private readonly planShards: Counter;
  private readonly planFailures: Counter;
  private readonly commits: Counter;
  private readonly commitFailures: Counter;
  private readonly commitSeconds: Histogram;
  private readonly lastCommit: Gauge;
  private readonly lastDrift: Gauge;
  private readonly lastHeld: Gauge;
  private readonly lastCost: Gauge;

  constructor(private readonly options: ProducerMetricsOptions = {}) {
    const conn = options.connection;
    this.queues = conn ? Object.values(QUEUES).map((name) => new Queue(name, { connection: conn.connection, prefix: conn.prefix })) : [];
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Queue gauges exist only with a connection, and share one read of Redis per scrape
    // (prom-client collects metrics in parallel). Labelled by key prefix, so several
    // deployments can share one Prometheus; with no series, a failed read reads as absent.
    const queue = { registers: this.queues.length > 0 ? registers : [], collect: () => this.refresh() };
    this.queueJobs = new Gauge({ name: 'churn_queue_jobs', help: 'Jobs in each queue by state, read from Redis at scrape time', labelNames: ['prefix', 'queue', 'state'], ...queue });
    this.backlog = new Gauge({ name: 'churn_shard_backlog_jobs', help: 'Shard jobs waiting, prioritized or active: the autoscaling signal for workers', labelNames: ['prefix'], ...queue });
    this.runs = new Gauge({ name: 'churn_runs', help: 'Runs by state (committed and failed: jobs still retained in Redis)', labelNames: ['prefix', 'state'], ...queue });
    this.readErrors = new Counter({ name: 'churn_queue_read_errors_total', help: 'Scrapes whose queue counts could not be read from Redis', registers });
    this.plans = new Counter({ name: 'churn_plans_total', help: 'Runs planned into shard jobs by this producer', registers });
    this.planShards = new Counter({ name: 'churn_planned_shards_total', help: 'Shard jobs enqueued by the runs this producer planned', registers });
    this.planFailures = new Counter({ name: 'churn_plan_failures_total', help: 'Failed planning attempts by error code', labelNames: ['code'], registers });
    this.commits = new Counter({ name: 'churn_commits_total', help: 'Runs committed by this producer, by model', labelNames: ['model'], registers });
    this.commitFailures = new Counter({ name: 'churn_commit_failures_total', help: 'Failed commit attempts by error code', labelNames: ['code'], registers });
    this.commitSeconds = new Histogram({
      name: 'churn_commit_duration_seconds',
      help: 'Time of the commit step of a run (checks, publish, manifest), by model',
      labelNames: ['model'],
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.lastCommit = new Gauge({ name: 'churn_last_commit_timestamp_seconds', help: 'Unix time of the last successful commit per model', labelNames: ['model'], registers });
    this.lastDrift = new Gauge({
      name: 'churn_last_run_drift_features',
      help: "Features (and the score) drifting in the model's last committed run, by drift status (alert, warn)",
      labelNames: ['model', 'status'],
      registers,
    });
    this.lastHeld = new Gauge({ name: 'churn_last_run_held', help: "1 when the drift gate held the model's last committed run back from latest", labelNames: ['model'], registers });
    this.lastCost = new Gauge({ name: 'churn_last_run_cost_per_million_rows', help: "Cost per million rows read of the model's last committed run (with a price per device-hour)", labelNames: ['model'], registers });
  }

  /** A run was planned into `shards` shard jobs. */
  planCompleted(result: { shards: number }): void {
    this.plans.inc();
    this.planShards.inc(result.shards);
  }

  /** A failed planning attempt, by the error code its job recorded. */
  planFailed(code: string): void {
    this.planFailures.inc({ code });
  }

  /** A run was committed: `result` is the commit job's summary, `job` its BullMQ job. */
  commitCompleted(job: JobTiming, result: unknown): void {
    const parsed = commitResultSchema.safeParse(result);
    const model = parsed.success ? parsed.data.model : 'unknown';
    const finishedOn = job.finishedOn ?? Date.now();
    this.commits.inc({ model });
    if (job.processedOn !== undefined) this.commitSeconds.observe({ model }, Math.max(0, finishedOn - job.processedOn) / 1000);
    this.lastCommit.set({ model }, finishedOn / 1000);
    if (!parsed.success) return;
    const { drift, held, cost } = parsed.data;
    if (drift) {
      this.lastDrift.set({ model, status: 'alert' }, drift.alerts.length);
      this.lastDrift.set({ model, status: 'warn' }, drift.warnings.length);
    }
    this.lastHeld.set({ model }, held ? 1 : 0);
    if (cost) this.lastCost.set({ model }, cost.perMillionRows);
  }

  /** A failed commit attempt, by the error code its job recorded. */
  commitFailed(code: string): void {
    this.commitFailures.inc({ code });
  }

  markReady(ready: boolean): void {
    this.ready = ready;
  }

  /**
   * Seeds the last-commit gauge from the newest completed commit jobs still in Redis, so a
   * restarted producer does not look as if no model had ever been committed.
   */
  async seedFromQueue(): Promise<void> {
    const commits = this.queues.find((q) => q.name === QUEUES.commits);
    if (!commits) return;
    const jobs = await commits.getJobs(['completed'], 0, (this.options.seedCommits ?? 1000) - 1, false);
    const newest = new Map<string, number>();
    for (const job of jobs) {
      const parsed = commitResultSchema.safeParse(job.returnvalue);
      if (!parsed.success || job.finishedOn === undefined) continue;
      newest.set(parsed.data.model, Math.max(newest.get(parsed.data.model) ?? 0, job.finishedOn));
    }
    for (const [model, at] of newest) this.lastCommit.set({ model }, at / 1000);
  }

  /** Serves the metrics and health endpoints on `port` (0: any free port). */
  async listen(port: number): Promise<Server> {
    await this.seedFromQueue();
    const server = createServer((req, res) => void this.route(req, res));
    return new Promise((resolve, reject) => {
      server.once('error', (cause: NodeJS.ErrnoException) => {
        const why = cause.code === 'EADDRINUSE' ? 'it is already in use' : cause.code === 'EACCES' ? 'permission denied' : cause.message;
        reject(new ChurnError('IO_ERROR', `cannot serve metrics on port ${port}: ${why}; choose another port or stop the process holding it`, { cause, details: { port, errno: cause.code }, settings: ['metricsPort'] }));
      });
      server.listen(port, () => resolve(server));
    });
  }

  /** Closes the queue connections, each within a bound (the server is closed by whoever listened). */
  async close(): Promise<void> {
    await closeClients(...this.queues);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    try {
      if (req.url === '/metrics') return reply(200, this.registry.contentType, await this.registry.metrics());
      if (req.url === '/livez') return reply(200, 'application/json', JSON.stringify({ live: true }));
      if (req.url === '/healthz') {
        const redis = await this.redisConnected();
        const ok = this.ready && redis;
        return reply(ok ? 200 : 503, 'application/json', JSON.stringify({ ready: this.ready, redis }));
      }
      reply(404, 'text/plain', 'not found: try /metrics, /healthz or /livez\n');
    } catch (error) {
      reply(500, 'text/plain', String(error));
    }
  }

  /**
   * The queue connection is up. Its status, not a command: during an outage commands wait in
   * the client's offline queue (`maxRetriesPerRequest: null`) instead of failing.
   */
  private async redisConnected(): Promise<boolean> {
    const queue = this.queues[0];
    if (!queue) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.options.healthTimeoutMs ?? 1000)));
    const status = queue.client.then(
      (client) => client.status === 'ready',
      () => false,
    );
    try {
      return await Promise.race([status, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One read of the queues for all gauges collected in the same scrape. */
  private refresh(): Promise<void> {
    this.reading ??= this.readQueues().finally(() => (this.reading = undefined));
    return this.reading;
  }

  /** Reads every queue's counts; on a Redis error the queue series are dropped, not left stale. */
  private async readQueues(): Promise<void> {
    let counts: Counts[];
    try {
      counts = await Promise.all(this.queues.map((q) => q.getJobCounts(...JOB_STATES)));
    } catch {
      this.readErrors.inc();
      this.queueJobs.reset();
      this.backlog.reset();
      this.runs.reset();
      return;
    }
    const prefix = this.options.connection?.prefix ?? '';
    const byQueue = new Map(this.queues.map((q, i) => [q.name, counts[i]!]));
    this.queueJobs.reset();
    for (const [queue, states] of byQueue) {
      for (const [state, n] of Object.entries(states)) this.queueJobs.set({ prefix, queue, state }, n);
    }
    const shards = byQueue.get(QUEUES.shards) ?? {};
    this.backlog.set({ prefix }, BACKLOG_STATES.reduce((sum, s) => sum + (shards[s] ?? 0), 0));
    const plans = byQueue.get(QUEUES.runs) ?? {};
    const commits = byQueue.get(QUEUES.commits) ?? {};
    const sum = (c: Counts, states: string[]) => states.reduce((a, s) => a + (c[s] ?? 0), 0);
    const runs: Record<(typeof RUN_STATES)[number], number> = {
      // Not planned yet: the plan job is still in the runs queue.
      queued: sum(plans, ['waiting', 'paused', 'prioritized', 'delayed', 'active']),
      // Planned: the commit job waits for its shard children, or is committing.
      running: sum(commits, ['waiting-children', 'waiting', 'paused', 'prioritized', 'delayed', 'active']),
      committed: sum(commits, ['completed']),
      failed: sum(commits, ['failed']) + sum(plans, ['failed']),
    };
    for (const state of RUN_STATES) this.runs.set({ prefix, state }, runs[state]);
  }
}
