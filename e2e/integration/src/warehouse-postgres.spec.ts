/**
 * Scores land in the warehouse (issue 9), against the real PostgreSQL at 127.0.0.1:5432
 * (database `test`, a schema of its own per test, dropped after) and the built `churn` binary:
 * two consecutive as-of dates in embedded mode and one in distributed mode load exactly the
 * committed rows; a rerun replaces, never duplicates; an older attempt or run never overwrites
 * a newer one; score_changes and the three analyst questions of docs/analysts.md give the same
 * answers in PostgreSQL and in `churn query` (DuckDB over Parquet); an unreachable warehouse
 * leaves the Parquet commit valid, exits 17, and `churn load` completes it; a held run stays out
 * of scores_latest in PostgreSQL until `churn release`.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exitCodeOf } from '@churn/errors';
import { churnErrorOf } from '@churn/testing';
import { runStatusSchema, type RunStatus } from '@churn/jobs';
import { runSummarySchema, type RunSummary } from '@churn/scoring';
import { committedRunOf, readPublishRecords, tableLayout } from '@churn/warehouse';
import { createObjectStore } from '@churn/object-store';
import { loadRunInto } from '@churn/warehouse-pg';
import { churn, DEFAULT_BUNDLE, freePort, startChurn, type ChurnProcess } from './support/churn-cli';
import { duckdbRows } from './support/duckdb';
import { deleteQueueKeys } from './support/queue-keys';
import { analystQuestions, comparable, dropSchema, PG_URL, pgRows, pgTarget, testSchema } from './support/warehouse';

const DAY_1 = '2026-08-01';
const DAY_2 = '2026-08-02';
const MODEL = 'churn-mlp-1.0.0';

describe('the PostgreSQL warehouse', () => {
  let dir: string;
  let data: string;
  let bundle11: string;
  const schemas: string[] = [];
  const schema = (label: string) => {
    const s = testSchema(label);
    schemas.push(s);
    return s;
  };

  const summaryOf = (stdout: string): RunSummary => runSummarySchema.parse(JSON.parse(stdout.trim().split('\n').at(-1)!));
  const score = (asOf: string, output: string, extra: string[] = []) =>
    churn(['score', '--input', data, '--as-of', asOf, '--output', path.join(dir, output), '--device', 'cpu', ...extra]);
  const query = async (output: string, sql: string) => {
    const q = await churn(['query', sql, '--scores', path.join(dir, output), '--json']);
    expect(q.code).toBe(0);
    return q.stdout.trim() === '' ? [] : q.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  /** The committed score rows of a table as DuckDB reads the Parquet files (the glob analysts use). */
  const parquetRows = (output: string, where = 'true') =>
    duckdbRows(`SELECT customer_id, CAST(as_of AS VARCHAR) AS as_of, model_name, model_version, score, risk_band, model_digest, run_id, epoch_ms(scored_at) AS scored_ms,
        explained, base_value, plan, mrr, reason_1, reason_2, reason_3, reason_1_text, reason_3_text
      FROM read_parquet('${path.join(dir, output)}/**/*.parquet', hive_partitioning = false) WHERE ${where} ORDER BY as_of, model_version, customer_id`);
  const warehouseRows = (s: string, where = 'true') =>
    pgRows(s, `SELECT customer_id, as_of, model_name, model_version, score, risk_band, model_digest, run_id, (extract(epoch FROM scored_at) * 1000)::bigint AS scored_ms,
        explained, base_value, plan, mrr, reason_1, reason_2, reason_3, reason_1_text, reason_3_text FROM scores WHERE ${where} ORDER BY as_of, model_version, customer_id`);
  /** Each explained row's non-null contributions, one row per feature, as DuckDB reads the Parquet columns. */
  const parquetContributions = (output: string) =>
    duckdbRows(`WITH explained AS (SELECT customer_id, as_of, model_version, COLUMNS('^contrib_') FROM read_parquet('${path.join(dir, output)}/**/*.parquet', hive_partitioning = false) WHERE explained)
      SELECT customer_id, CAST(as_of AS VARCHAR) AS as_of, model_version, substr(feature, ${'contrib_'.length + 1}) AS feature, contribution
      FROM explained UNPIVOT INCLUDE NULLS (contribution FOR feature IN (COLUMNS('^contrib_'))) WHERE contribution IS NOT NULL
      ORDER BY as_of, model_version, customer_id, feature`);
  const CONTRIBUTIONS_SQL = 'SELECT customer_id, CAST(as_of AS VARCHAR) AS as_of, model_version, feature, contribution FROM score_contributions ORDER BY as_of, model_version, customer_id, feature';

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-warehouse-'));
    data = path.join(dir, 'data');
    // The same customers on two dates (the generator's ids), drawn with different seeds, so
    // customers move between bands from one run to the next.
    for (const [asOf, seed] of [[DAY_1, '5'], [DAY_2, '6']] as const) {
      expect((await churn(['synth', '--customers', '3000', '--as-of', asOf, '--out', data, '--seed', seed, '--files', '2'])).code).toBe(0);
    }
    // A second version of the model (same weights): its run on DAY_2 must never be compared
    // with version 1.0.0's run on DAY_1.
    bundle11 = path.join(dir, 'churn-mlp-1.1.0');
    await fs.mkdir(bundle11);
    await fs.copyFile(path.join(DEFAULT_BUNDLE, 'model.onnx'), path.join(bundle11, 'model.onnx'));
    const spec = JSON.parse(await fs.readFile(path.join(DEFAULT_BUNDLE, 'bundle.json'), 'utf8')) as Record<string, unknown>;
    await fs.writeFile(path.join(bundle11, 'bundle.json'), JSON.stringify({ ...spec, version: '1.1.0' }, null, 2));
  });

  afterAll(async () => {
    for (const s of schemas) await dropSchema(s);
    await fs.rm(dir, { recursive: true, force: true });
  });

  describe('embedded mode, two consecutive dates and two model versions', () => {
    let s: string;
    const summaries: RunSummary[] = [];

    beforeAll(async () => {
      s = schema('embedded');
      const wh = ['--warehouse', PG_URL, '--warehouse-schema', s];
      for (const [asOf, extra] of [[DAY_1, []], [DAY_2, []], [DAY_2, ['--model', bundle11]]] as const) {
        const run = await score(asOf, 'scores', [...wh, ...extra]);
        expect(run.code).toBe(0);
        summaries.push(summaryOf(run.stdout));
      }
    });

    it('loads exactly the committed rows: counts, ids and scores equal the Parquet table', async () => {
      for (const summary of summaries) expect(summary.published).toEqual([expect.objectContaining({ publisher: 'postgres', state: 'loaded', rows: summary.rowsScored, runId: summary.runId })]);
      const expected = await parquetRows('scores');
      const loaded = await warehouseRows(s);
      expect(loaded.length).toBe(summaries.reduce((a, x) => a + x.rowsScored, 0));
      expect(comparable(loaded)).toEqual(comparable(expected));
      // Contributions, feature by feature (real[] in the order of runs.contribution_features).
      const contributions = await parquetContributions('scores');
      expect(contributions.length).toBeGreaterThan(1000);
      expect(comparable(await pgRows(s, CONTRIBUTIONS_SQL))).toEqual(comparable(contributions));
      // The same view in churn query, the same SQL.
      expect(comparable(await query('scores', CONTRIBUTIONS_SQL))).toEqual(comparable(contributions));
      const runs = await pgRows(s, 'SELECT run_id, attempt, state, held, rows_scored FROM runs ORDER BY as_of, model_version');
      expect(runs).toEqual(summaries.map((x) => ({ run_id: x.runId, attempt: 1, state: 'loaded', held: false, rows_scored: x.rowsScored })));
      const drift = await pgRows(s, `SELECT count(*) AS n, count(DISTINCT kind) AS kinds FROM drift WHERE run_id = '${summaries[0]!.runId}'`);
      expect(drift).toEqual([{ n: expect.any(Number), kinds: 3 }]);
      // Typed segment columns, as in Parquet.
      expect(await pgRows(s, "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'scores' AND column_name IN ('plan', 'mrr') ORDER BY column_name")).toEqual([
        { data_type: 'double precision' },
        { data_type: 'text' },
      ]);
    });

    it('score_changes compares consecutive runs of the same model version only, as DuckDB computes it over Parquet', async () => {
      const glob = `read_parquet('${path.join(dir, 'scores')}/**/*.parquet', hive_partitioning = false)`;
      const expected = await duckdbRows(`
        WITH runs AS (SELECT DISTINCT model_name, model_version, as_of FROM ${glob}),
             pairs AS (SELECT *, lag(as_of) OVER (PARTITION BY model_name, model_version ORDER BY as_of) AS previous_as_of FROM runs)
        SELECT c.customer_id, c.model_version, CAST(c.as_of AS VARCHAR) AS as_of, CAST(pairs.previous_as_of AS VARCHAR) AS previous_as_of,
               p.score AS previous_score, c.score, p.risk_band AS previous_band, c.risk_band
        FROM ${glob} c JOIN pairs USING (model_name, model_version, as_of)
        JOIN ${glob} p ON p.model_name = c.model_name AND p.model_version = c.model_version AND p.as_of = pairs.previous_as_of AND p.customer_id = c.customer_id
        ORDER BY c.model_version, c.customer_id`);
      expect(expected.length).toBeGreaterThan(100);
      expect(new Set(expected.map((r) => r['model_version']))).toEqual(new Set(['1.0.0']));
      const columns = 'customer_id, model_version, as_of, previous_as_of, previous_score, score, previous_band, risk_band';
      const inWarehouse = await pgRows(s, `SELECT ${columns} FROM score_changes ORDER BY model_version, customer_id`);
      const inQuery = await query('scores', `SELECT customer_id, model_version, CAST(as_of AS VARCHAR) AS as_of, CAST(previous_as_of AS VARCHAR) AS previous_as_of, previous_score, score, previous_band, risk_band FROM score_changes ORDER BY model_version, customer_id`);
      expect(comparable(inWarehouse)).toEqual(comparable(expected));
      expect(comparable(inQuery)).toEqual(comparable(expected));
      // The other columns agree between the engines too.
      const rest = 'customer_id, score_delta, band_rose, top_reason, top_reason_text, run_id, previous_run_id';
      expect(comparable(await pgRows(s, `SELECT ${rest} FROM score_changes ORDER BY customer_id`))).toEqual(comparable(await query('scores', `SELECT ${rest} FROM score_changes ORDER BY customer_id`)));
    });

    it('answers the three questions of docs/analysts.md the same in PostgreSQL and in churn query', async () => {
      const questions = await analystQuestions();
      expect([...questions.keys()]).toEqual(['top-enterprise', 'low-to-high', 'top-reason-by-plan']);
      for (const [name, sql] of questions) {
        const inWarehouse = await pgRows(s, sql);
        const inQuery = await query('scores', sql);
        expect({ name, rows: comparable(inWarehouse) }).toEqual({ name, rows: comparable(inQuery) });
        expect({ name, empty: inWarehouse.length === 0 }).toEqual({ name, empty: false });
      }
    });

    it('records an evaluation in the warehouse with churn evaluate --warehouse', async () => {
      const run = await churn(['evaluate', '--scores', path.join(dir, 'scores'), '--as-of', DAY_1, '--model', MODEL, '--labels', path.join(data, `as_of=${DAY_1}`), '--warehouse', PG_URL, '--warehouse-schema', s]);
      expect(run.code).toBe(0);
      const evaluation = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { runId: string; rowsJoined: number; metrics: { auc: number } };
      expect(await pgRows(s, 'SELECT run_id, model_name, model_version, rows_joined, auc FROM evaluations')).toEqual([
        { run_id: evaluation.runId, model_name: 'churn-mlp', model_version: '1.0.0', rows_joined: evaluation.rowsJoined, auc: evaluation.metrics.auc },
      ]);
    });

    it('a rerun replaces the slice, never duplicates; an older attempt or run never overwrites a newer one', async () => {
      const again = await score(DAY_2, 'scores', ['--warehouse', PG_URL, '--warehouse-schema', s]);
      expect(again.code).toBe(0);
      const rerun = summaryOf(again.stdout);
      expect(rerun).toMatchObject({ runId: summaries[1]!.runId, attempt: 2, published: [expect.objectContaining({ state: 'loaded' })] });
      const twice = await churn(['load', '--scores', path.join(dir, 'scores'), '--as-of', DAY_2, '--model', MODEL, '--warehouse', PG_URL, '--warehouse-schema', s]);
      expect(twice.code).toBe(0);
      expect(comparable(await warehouseRows(s))).toEqual(comparable(await parquetRows('scores')));
      expect(await pgRows(s, `SELECT count(*) AS n, max(attempt) AS attempt FROM runs WHERE run_id = '${rerun.runId}'`)).toEqual([{ n: 1, attempt: 2 }]);

      const store = createObjectStore();
      const committed = await committedRunOf(store, path.join(dir, 'scores'), { runId: rerun.runId });
      const olderAttempt = await loadRunInto(pgTarget(s), { ...committed, manifest: { ...committed.manifest, attempt: 1 } });
      expect(olderAttempt.state).toBe('superseded');
      const olderRun = await loadRunInto(pgTarget(s), {
        ...committed,
        manifest: { ...committed.manifest, runId: `${MODEL}_${DAY_2}_000000000000`, committedAt: '2020-01-01T00:00:00.000Z' },
      });
      expect(olderRun.state).toBe('superseded');
      expect(await pgRows(s, `SELECT DISTINCT run_id FROM scores WHERE as_of = '${DAY_2}' AND model_version = '1.0.0'`)).toEqual([{ run_id: rerun.runId }]);
      expect(await pgRows(s, `SELECT attempt FROM runs WHERE run_id = '${rerun.runId}'`)).toEqual([{ attempt: 2 }]);

      // Parts whose per-run columns disagree with the manifest load nothing (the slice's table
      // stores those columns once, so they are checked, not trusted).
      const digest = '0'.repeat(64);
      const tampered = await churnErrorOf(loadRunInto(pgTarget(s), { ...committed, manifest: { ...committed.manifest, attempt: 3, model: { ...committed.manifest.model, digest } } }));
      expect(tampered.code).toBe('CORRUPT_INPUT');
      expect(tampered.message).toMatch(/score column model_digest of run .* holds [0-9a-f]{64} in .*part-00000-.*\.parquet where the run's manifest says 0{64}/);
      expect(comparable(await warehouseRows(s))).toEqual(comparable(await parquetRows('scores')));
      expect(await pgRows(s, `SELECT attempt FROM runs WHERE run_id = '${rerun.runId}'`)).toEqual([{ attempt: 2 }]);
    });

    it('a reader polling the slice while it is replaced sees the whole old run or the whole new one, never part', async () => {
      const store = createObjectStore();
      const run = await committedRunOf(store, path.join(dir, 'scores'), { runId: summaries[0]!.runId });
      const slice = `as_of = '${DAY_1}' AND model_version = '1.0.0'`;
      const seen = new Set<number>();
      let loading = true;
      const reader = (async () => {
        while (loading) for (const row of await pgRows(s, `SELECT count(*) AS n FROM scores WHERE ${slice}`)) seen.add(Number(row['n']));
      })();
      try {
        for (let k = 0; k < 3; k++) expect((await loadRunInto(pgTarget(s), run)).state).toBe('loaded');
      } finally {
        loading = false;
        await reader;
      }
      expect([...seen]).toEqual([summaries[0]!.rowsScored]);
    });

    it('loads concurrently: two slices of a new date at once, and the same slice twice at once leaves one copy', async () => {
      const fresh = schema('concurrent');
      const store = createObjectStore();
      const runs = await Promise.all(summaries.slice(1).map((x) => committedRunOf(store, path.join(dir, 'scores'), { runId: x.runId })));
      const outcomes = await Promise.all([...runs, runs[0]!].map((run) => loadRunInto(pgTarget(fresh), run)));
      expect(outcomes.map((o) => o.state)).toEqual(['loaded', 'loaded', 'loaded']);
      expect(comparable(await warehouseRows(fresh))).toEqual(comparable(await parquetRows('scores', `as_of = '${DAY_2}'`)));
    });
  });

  it('an unreachable warehouse leaves the Parquet commit valid and exits 17; churn load then completes it', async () => {
    const s = schema('unreachable');
    const closed = await freePort();
    const run = await score(DAY_1, 'unreachable', ['--warehouse', `postgres://postgres:hunter2@127.0.0.1:${closed}/test`, '--warehouse-schema', s]);
    expect(run.code).toBe(exitCodeOf('WAREHOUSE_UNAVAILABLE'));
    expect(run.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${closed}/test`));
    expect(run.stderr + run.stdout).not.toContain('hunter2');
    const summary = summaryOf(run.stdout);
    expect(summary.published).toEqual([expect.objectContaining({ state: 'not_loaded', error: expect.objectContaining({ code: 'WAREHOUSE_UNAVAILABLE' }) })]);
    // The Parquet commit stands and reads as committed.
    expect(await query('unreachable', 'SELECT count(*) AS n FROM scores')).toEqual([{ n: summary.rowsScored }]);
    const store = createObjectStore();
    const layout = tableLayout(path.join(dir, 'unreachable')).partition(DAY_1, MODEL);
    expect(await readPublishRecords(store, layout, summary)).toEqual([expect.objectContaining({ state: 'not_loaded' })]);

    const load = await churn(['load', '--run', summary.runId, '--scores', path.join(dir, 'unreachable'), '--warehouse', PG_URL, '--warehouse-schema', s]);
    expect(load.code).toBe(0);
    expect(JSON.parse(load.stdout.trim())).toMatchObject({ state: 'loaded', rows: summary.rowsScored });
    expect(comparable(await warehouseRows(s))).toEqual(comparable(await parquetRows('unreachable')));
    // The sidecar says loaded now: one record per target, the latest outcome.
    expect((await readPublishRecords(store, layout, summary)).map((r) => r.state).sort()).toEqual(['loaded', 'not_loaded']);
    expect((await readPublishRecords(store, layout, summary)).find((r) => r.target.includes(':5432/'))!.state).toBe('loaded');
  });

  it('keeps a held run out of scores_latest in PostgreSQL until churn release', async () => {
    const s = schema('held');
    const wh = ['--warehouse', PG_URL, '--warehouse-schema', s];
    const drifted = path.join(dir, 'drifted');
    expect((await churn(['synth', '--customers', '3000', '--as-of', DAY_2, '--out', drifted, '--seed', '6', '--files', '2', '--drift', 'api-errors-up'])).code).toBe(0);
    await fs.cp(path.join(data, `as_of=${DAY_1}`), path.join(drifted, `as_of=${DAY_1}`), { recursive: true });
    const clean = await churn(['score', '--input', drifted, '--as-of', DAY_1, '--output', path.join(dir, 'held'), '--device', 'cpu', '--explain', 'none', '--on-drift', 'hold', ...wh]);
    expect(clean.code).toBe(0);
    const held = await churn(['score', '--input', drifted, '--as-of', DAY_2, '--output', path.join(dir, 'held'), '--device', 'cpu', '--explain', 'none', '--on-drift', 'hold', ...wh]);
    expect(held.code).toBe(exitCodeOf('DRIFT_HELD'));
    const heldRun = summaryOf(held.stdout);
    expect(heldRun.published).toEqual([expect.objectContaining({ state: 'loaded' })]);
    const latest = () => pgRows(s, 'SELECT DISTINCT as_of FROM scores_latest');
    expect(await pgRows(s, `SELECT state, held FROM runs WHERE run_id = '${heldRun.runId}'`)).toEqual([{ state: 'held', held: true }]);
    expect(await latest()).toEqual([{ as_of: DAY_1 }]);
    expect(await query('held', 'SELECT DISTINCT CAST(as_of AS VARCHAR) AS as_of FROM scores_latest')).toEqual([{ as_of: DAY_1 }]);
    const drift = await pgRows(s, `SELECT subject FROM drift WHERE run_id = '${heldRun.runId}' AND status = 'alert' AND kind = 'feature'`);
    expect(drift.map((r) => r['subject'])).toContain('api_error_rate');

    const release = await churn(['release', heldRun.runId, '--scores', path.join(dir, 'held'), ...wh]);
    expect(release.code).toBe(0);
    expect(JSON.parse(release.stdout.trim())).toEqual({ runId: heldRun.runId, released: true, warehouse: true });
    expect(await latest()).toEqual([{ as_of: DAY_2 }]);
    expect(await query('held', 'SELECT DISTINCT CAST(as_of AS VARCHAR) AS as_of FROM scores_latest')).toEqual([{ as_of: DAY_2 }]);
  });

  describe('distributed mode', () => {
    const prefix = `churn-e2e-wh-${process.pid}-${Date.now()}`;
    const processes: ChurnProcess[] = [];
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      env = { REDIS_URL: 'redis://127.0.0.1:6379', CHURN_QUEUE_PREFIX: prefix, CHURN_ALLOWED_LOCATIONS: `file://${dir}/,file://${path.dirname(DEFAULT_BUNDLE)}/` };
      processes.push(startChurn(['producer'], env), startChurn(['worker', '--concurrency', '1'], env));
      await Promise.all(processes.map((p) => p.waitFor('ready')));
    });

    afterAll(async () => {
      await Promise.all(processes.map((p) => p.stop()));
      await deleteQueueKeys(prefix);
    });

    it('the producer commit loads the run named by churn run --warehouse, exactly the committed rows', async () => {
      const s = schema('distributed');
      const run = await churn(['run', '--dataset', data, '--as-of', DAY_1, '--output', path.join(dir, 'distributed'), '--device', 'cpu', '--warehouse', PG_URL, '--warehouse-schema', s, '--wait', '--timeout', '100'], { env });
      expect(run.code).toBe(0);
      const status: RunStatus = runStatusSchema.parse(JSON.parse(run.stdout.trim().split('\n').at(-1)!));
      expect(status.summary).toMatchObject({ mode: 'distributed', published: [expect.objectContaining({ state: 'loaded', rows: status.summary!.rowsScored })] });
      expect(comparable(await warehouseRows(s))).toEqual(comparable(await parquetRows('distributed')));
      expect(await pgRows(s, 'SELECT run_id, state FROM runs')).toEqual([{ run_id: status.runId, state: 'loaded' }]);
    });
  });
});
