/**
 * Issue 8 through the built `churn` binary: one writer per partition, readers that never see a
 * half-published version, a bundle's digest guarding its partitions, a copied table reading its
 * own parts, and a score table whose raw glob (`<output>/**\/*.parquet`) an independent DuckDB
 * and Polars read as exactly the committed score rows, in one schema.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pl from 'nodejs-polars';
import { exitCodeOf } from '@churn/errors';
import { CHURN_BIN, DEFAULT_BUNDLE, REPO_ROOT, churn, startChurn } from './support/churn-cli';
import { duckdbRows } from './support/duckdb';

const DAY_1 = '2026-02-01';
const DAY_2 = '2026-02-02';

describe('publishing score partitions exactly once', () => {
  let dir: string;
  let data: string;
  const committedRows = new Map<string, number>();

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-publish-e2e-'));
    data = path.join(dir, 'data');
    for (const [day, seed] of [[DAY_1, 1], [DAY_2, 2]] as const) {
      expect((await churn(['synth', '--customers', '60000', '--as-of', day, '--out', data, '--seed', String(seed), '--files', '3'])).code).toBe(0);
    }
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const lease = (output: string, day: string, model = 'churn-mlp-1.0.0') => path.join(output, `as_of=${day}`, `model=${model}`, '_lease.json');
  const waitForFile = async (file: string) => {
    for (let i = 0; i < 400; i++) {
      if (await fs.stat(file).then(() => true, () => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${file} never appeared`);
  };

  it('refuses a second writer of a partition while the first commits it', async () => {
    const output = path.join(dir, 'concurrent');
    const first = churn(['score', '--input', data, '--as-of', DAY_1, '--output', output, '--device', 'cpu', '--explain', 'all']);
    await waitForFile(lease(output, DAY_1));
    const second = await churn(['score', '--input', data, '--as-of', DAY_1, '--output', output, '--device', 'cpu', '--explain', 'none']);
    expect(second.code).toBe(exitCodeOf('PARTITION_LOCKED'));
    expect(second.stderr).toMatch(/error \[PARTITION_LOCKED\]: the partition is being written by run churn-mlp-1\.0\.0_2026-02-01_[0-9a-f]{12} \(attempt 1, host .*, pid \d+/);
    const done = await first;
    expect(done.code).toBe(0);
    const q = await churn(['query', 'SELECT count(*) AS n, count(DISTINCT customer_id) AS d, count(DISTINCT run_id) AS runs FROM scores', '--scores', output, '--json']);
    expect(JSON.parse(q.stdout.trim())).toEqual({ n: done.summary!['rowsScored'], d: done.summary!['rowsScored'], runs: 1 });
    await expect(fs.stat(lease(output, DAY_1))).rejects.toThrow();
  });

  it('answers churn query from the previous version while a rerun is publishing', async () => {
    const output = path.join(dir, 'rerun');
    const v1 = await churn(['score', '--input', data, '--as-of', DAY_1, '--output', output, '--device', 'cpu', '--explain', 'none']);
    expect(v1.code).toBe(0);
    const v2 = churn(['score', '--input', data, '--as-of', DAY_1, '--output', output, '--device', 'cpu', '--explain', 'all']);
    let finished = false;
    void v2.then(() => (finished = true));
    const answers: string[] = [];
    while (!finished) {
      const q = await churn(['query', 'SELECT count(*) AS n, count(DISTINCT run_id) AS runs, min(run_id) AS run FROM scores', '--scores', output, '--json']);
      expect(q.stderr).toBe('');
      expect(q.code).toBe(0);
      answers.push(q.stdout.trim());
    }
    const v2Summary = (await v2).summary!;
    const allowed = [v1.summary!, v2Summary].map((s) => JSON.stringify({ n: s['rowsScored'], runs: 1, run: s['runId'] }));
    expect(answers.length).toBeGreaterThan(1);
    for (const answer of answers) expect(allowed).toContain(answer);
    expect(answers.at(-1) === allowed[0] || answers.at(-1) === allowed[1]).toBe(true);
  });

  it('gives an edited bundle.json another digest, which cannot silently replace the partition', async () => {
    const output = path.join(dir, 'digest');
    const original = await churn(['score', '--input', data, '--as-of', DAY_2, '--output', output, '--device', 'cpu', '--explain', 'none']);
    expect(original.code).toBe(0);
    const edited = path.join(dir, 'edited-bundle');
    await fs.cp(DEFAULT_BUNDLE, edited, { recursive: true });
    const json = JSON.parse(await fs.readFile(path.join(edited, 'bundle.json'), 'utf8')) as { features: unknown[] };
    // Two features swapped: the model still loads, and would score other customers high.
    [json.features[0], json.features[1]] = [json.features[1], json.features[0]];
    await fs.writeFile(path.join(edited, 'bundle.json'), JSON.stringify(json, null, 2));
    const refused = await churn(['score', '--input', data, '--as-of', DAY_2, '--model', edited, '--output', output, '--device', 'cpu', '--explain', 'none']);
    expect(refused.code).toBe(exitCodeOf('PARTITION_CONFLICT'));
    expect(refused.stderr).toMatch(/error \[PARTITION_CONFLICT\]: .* is committed by run .* with bundle digest [0-9a-f]{64}, but this run's bundle churn-mlp-1\.0\.0 has digest [0-9a-f]{64}.* \(see --replace\)/);
    const stillOriginal = await churn(['query', 'SELECT DISTINCT model_digest FROM scores', '--scores', output, '--json']);
    expect(JSON.parse(stillOriginal.stdout.trim())).toEqual({ model_digest: original.summary!['modelDigest'] });
    const replaced = await churn(['score', '--input', data, '--as-of', DAY_2, '--model', edited, '--output', output, '--device', 'cpu', '--explain', 'none', '--replace']);
    expect(replaced.code).toBe(0);
    expect(replaced.summary!['modelDigest']).not.toBe(original.summary!['modelDigest']);
    expect(replaced.summary!['replaced']).toMatchObject({ runId: original.summary!['runId'], digest: original.summary!['modelDigest'] });
  });

  it('lets a copied table read its own parts', async () => {
    const output = path.join(dir, 'digest');
    const copy = path.join(dir, 'copied-table');
    await fs.cp(output, copy, { recursive: true });
    await fs.rename(output, path.join(dir, 'moved-away'));
    const q = await churn(['query', 'SELECT count(*) AS n FROM scores', '--scores', copy, '--json']);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout.trim()).n).toBeGreaterThan(0);
  });

  describe('a score table that any engine reads by glob', () => {
    let output: string;

    beforeAll(async () => {
      output = path.join(dir, 'glob');
      const version2 = path.join(dir, 'churn-mlp-1.1.0');
      await fs.cp(DEFAULT_BUNDLE, version2, { recursive: true });
      const json = JSON.parse(await fs.readFile(path.join(version2, 'bundle.json'), 'utf8')) as { version: string };
      json.version = '1.1.0';
      await fs.writeFile(path.join(version2, 'bundle.json'), JSON.stringify(json, null, 2));
      const dirty = path.join(dir, 'dirty');
      expect((await churn(['synth', '--customers', '20000', '--as-of', '2026-02-03', '--out', dirty, '--seed', '9', '--files', '2', '--dirty', '0.05'])).code).toBe(0);
      const runs = [
        ['--input', data, '--as-of', DAY_1, '--explain', 'none'],
        ['--input', data, '--as-of', DAY_2, '--explain', 'band:high'],
        ['--input', data, '--as-of', DAY_2, '--model', version2, '--explain', 'all'],
        ['--input', dirty, '--max-bad-fraction', '1'],
      ];
      for (const args of runs) {
        const run = await churn(['score', ...args, '--output', output, '--device', 'cpu']);
        expect(run.code).toBe(0);
        committedRows.set(String(run.summary!['output']), Number(run.summary!['rowsScored']));
      }
      // A run killed mid-way leaves staged files behind, and no _SUCCESS.
      const killed = spawn(process.execPath, [CHURN_BIN, 'score', '--input', data, '--as-of', DAY_1, '--output', output, '--device', 'cpu', '--explain', 'all', '--model', version2], { cwd: REPO_ROOT, stdio: 'ignore' });
      const staged = async () => (await fs.readdir(path.join(output, '_temporary'), { recursive: true }).catch(() => [] as string[])).some((f) => String(f).endsWith('.staged'));
      for (let i = 0; i < 600 && !(await staged()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      killed.kill('SIGKILL');
      expect(await staged()).toBe(true);
    });

    const expected = () => [...committedRows.values()].reduce((a, b) => a + b, 0);

    it('DuckDB reads exactly the committed score rows, with one schema', async () => {
      const glob = `read_parquet('${output}/**/*.parquet', hive_partitioning = true)`;
      const [counts] = await duckdbRows(`SELECT count(*) AS n, count(DISTINCT (as_of, model, customer_id)) AS distinct_rows, count(DISTINCT as_of) AS dates, count(DISTINCT model) AS models,
        count(*) FILTER (WHERE score IS NULL OR NOT isfinite(score) OR score < 0 OR score > 1) AS bad_scores FROM ${glob}`);
      expect(counts).toEqual({ n: expected(), distinct_rows: expected(), dates: 3, models: 2, bad_scores: 0 });
      const perPartition = await duckdbRows(`SELECT CAST(as_of AS VARCHAR) AS d, model, count(*) AS n FROM ${glob} GROUP BY ALL ORDER BY ALL`);
      expect(perPartition.map((r) => Number(r['n'])).reduce((a, b) => a + b, 0)).toBe(expected());
      // One schema: every file has the same columns, explained or not.
      const schemas = await duckdbRows(`SELECT count(DISTINCT columns) AS schemas FROM (SELECT file_name, string_agg(name || ':' || type, ',' ORDER BY name) AS columns FROM parquet_schema('${output}/**/*.parquet') GROUP BY file_name)`);
      expect(schemas).toEqual([{ schemas: 1 }]);
    });

    it('Polars reads the same rows by the same glob', () => {
      const frame = pl.scanParquet(`${output}/**/*.parquet`, { hivePartitioning: true }).collectSync();
      expect(frame.height).toBe(expected());
      expect(frame.getColumn('score').nullCount()).toBe(0);
      expect(new Set(frame.getColumn('model').toArray()).size).toBe(2);
    });

    it('keeps the quarantine in its own table, beside the score table', async () => {
      const [q] = await duckdbRows(`SELECT count(*) AS n, count(DISTINCT reason_code) AS codes FROM read_parquet('${output}_quarantine/**/*.parquet', hive_partitioning = true)`);
      expect(Number(q!['n'])).toBeGreaterThan(0);
      expect(Number(q!['codes'])).toBeGreaterThanOrEqual(4);
      const view = await churn(['query', 'SELECT count(*) AS n FROM quarantine', '--scores', output, '--json']);
      expect(JSON.parse(view.stdout.trim())).toEqual({ n: q!['n'] });
    });
  });

  it('lets a worker process start with its allowed locations in the log', async () => {
    const worker = startChurn(['worker', '--concurrency', '1'], { REDIS_URL: 'redis://127.0.0.1:6379', CHURN_QUEUE_PREFIX: `churn-e2e-loc-${process.pid}`, CHURN_ALLOWED_LOCATIONS: 's3://lake/,file:///data/' });
    try {
      await worker.waitFor('ready');
      expect(worker.log()).toMatch(/worker: accepting locations under s3:\/\/lake\/, file:\/\/\/data\//);
    } finally {
      await worker.stop();
    }
  });
});
