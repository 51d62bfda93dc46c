/**
 * The whole embedded job through the built `churn` binary: synth -> train -> score -> read the
 * committed table back with DuckDB, checking the row accounting and the score-table contract.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { churn, CHURN_BIN, REPO_ROOT, successMarkers, type CliRun } from './support/churn-cli';
import { duckdbRows } from './support/duckdb';

const AS_OF = '2026-03-01';

describe('churn synth -> train -> score -> query', () => {
  let dir: string;
  let data: string;
  let model: string;
  let scores: string;
  let scored: CliRun;
  const partition = () => path.join(scores, `as_of=${AS_OF}`, 'model=e2e-mlp-0.1.0');
  const inputGlob = () => path.join(data, `as_of=${AS_OF}`, '*.parquet');

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-e2e-'));
    data = path.join(dir, 'data');
    model = path.join(dir, 'model');
    scores = path.join(dir, 'scores');
    const synth = await churn(['synth', '--customers', '24000', '--as-of', AS_OF, '--out', data, '--seed', '11', '--files', '3']);
    expect(synth.stderr).toContain('wrote 24,000 customers');
    expect(synth.code).toBe(0);
    const train = await churn(['train', '--data', data, '--out', model, '--kind', 'mlp', '--name', 'e2e-mlp', '--version', '0.1.0', '--seed', '3']);
    expect(train.code).toBe(0);
    expect(train.summary?.['heldOutAuc']).toBeGreaterThan(0.7);
    scored = await churn(['score', '--input', data, '--model', model, '--output', scores, '--device', 'cpu', '--shard-rows', '3000']);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('commits the run and prints a JSON summary whose accounting balances', async () => {
    expect(scored.stderr).not.toMatch(/error/i);
    expect(scored.code).toBe(0);
    const s = scored.summary!;
    expect(s).toMatchObject({ rowsRead: 24000, device: 'cpu', rowsQuarantined: 0, attempt: 1, mode: 'embedded' });
    expect(s['runId']).toMatch(new RegExp(`^e2e-mlp-0\\.1\\.0_${AS_OF}_[0-9a-f]{12}$`));
    expect(Number(s['rowsScored']) + Number(s['rowsQuarantined']) + Number(s['rowsIneligible'])).toBe(24000);
    expect(Number(s['rowsPerSecond'])).toBeGreaterThan(0);
    expect(await successMarkers(scores)).toEqual([path.join(partition(), '_SUCCESS')]);
    const manifest = JSON.parse(await fs.readFile(path.join(partition(), '_manifest.json'), 'utf8')) as Record<string, unknown> & { shards: { rowsRead: number; rowsScored: number; rowsQuarantined: number; rowsIneligible: number }[] };
    expect(manifest['rowsScored']).toBe(s['rowsScored']);
    for (const shard of manifest.shards) expect(shard.rowsScored + shard.rowsQuarantined + shard.rowsIneligible).toBe(shard.rowsRead);
  });

  it('writes each eligible input row exactly once, with the score-table columns', async () => {
    const [check] = await duckdbRows(`
      WITH s AS (SELECT * FROM read_parquet('${partition()}/part-*.parquet')),
           i AS (SELECT * FROM read_parquet('${inputGlob()}'))
      SELECT (SELECT count(*) FROM s) AS scored,
             (SELECT count(DISTINCT customer_id) FROM s) AS distinct_ids,
             (SELECT count(*) FROM i WHERE status = 'active') AS active_inputs,
             (SELECT count(*) FROM s JOIN i USING (customer_id) WHERE i.status <> 'active') AS scored_inactive,
             (SELECT count(*) FROM s WHERE score < 0 OR score > 1 OR score IS NULL) AS bad_scores,
             (SELECT count(*) FROM s WHERE as_of <> DATE '${AS_OF}' OR run_id <> '${String(scored.summary!['runId'])}' OR model_name <> 'e2e-mlp' OR model_version <> '0.1.0' OR model_digest <> '${String(scored.summary!['modelDigest'])}') AS bad_meta`);
    expect(check).toEqual({ scored: 24000 - Number(scored.summary!['rowsIneligible']), distinct_ids: check!['scored'], active_inputs: check!['scored'], scored_inactive: 0, bad_scores: 0, bad_meta: 0 });
    const columns = await duckdbRows(`DESCRIBE SELECT * FROM read_parquet('${partition()}/part-*.parquet', hive_partitioning = false)`);
    // The contract columns come first; explanation columns follow (docs/explanations.md).
    expect(columns.slice(0, 9).map((c) => [c['column_name'], c['column_type']])).toEqual([
      ['customer_id', 'VARCHAR'],
      ['as_of', 'DATE'],
      ['score', 'FLOAT'],
      ['risk_band', 'VARCHAR'],
      ['model_name', 'VARCHAR'],
      ['model_version', 'VARCHAR'],
      ['model_digest', 'VARCHAR'],
      ['run_id', 'VARCHAR'],
      ['scored_at', 'TIMESTAMP WITH TIME ZONE'],
    ]);
    expect(columns.slice(9).map((c) => c['column_name'])).toEqual(expect.arrayContaining(['explained', 'base_value', 'contrib_api_error_rate', 'contrib_plan', 'reason_1', 'reason_3_text']));
  });

  it('answers SQL over the committed partitions with churn query', async () => {
    const q = await churn(['query', 'SELECT risk_band, count(*) AS n FROM scores GROUP BY 1 ORDER BY 1', '--scores', scores, '--json']);
    expect(q.code).toBe(0);
    const rows = q.stdout.trim().split('\n').map((l) => JSON.parse(l) as { risk_band: string; n: number });
    expect(rows.reduce((a, r) => a + Number(r.n), 0)).toBe(scored.summary!['rowsScored']);
    expect(rows.map((r) => r.risk_band).every((b) => ['low', 'medium', 'high'].includes(b))).toBe(true);
    const table = await churn(['query', 'SELECT count(*) AS n FROM scores', '--scores', scores]);
    expect(table.stdout.split('\n')[0]).toBe('n');
  });

  it('exits 0 quietly when the reader closes the pipe early (churn query ... | head -1)', async () => {
    // Every row as JSON is megabytes, far past a pipe's buffer: writes after head exits hit EPIPE.
    const script = `"${process.execPath}" "${CHURN_BIN}" query "SELECT * FROM scores" --scores "${scores}" --json | head -1; echo "churn exit $\{PIPESTATUS[0]}" >&2`;
    const child = spawn('bash', ['-c', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stdout)).toHaveProperty('customer_id');
    expect(stderr).toBe('churn exit 0\n');
  });

  it('replaces the partition exactly when the same run is scored again with other sharding', async () => {
    const before = await duckdbRows(`SELECT customer_id, score FROM read_parquet('${partition()}/part-*.parquet') ORDER BY customer_id`);
    const again = await churn(['score', '--input', data, '--model', model, '--output', scores, '--device', 'cpu', '--shard-rows', '100000', '--concurrency', '1']);
    expect(again.code).toBe(0);
    // Other sharding is another run (shard rows change the parts); its parts replace the old.
    expect(again.summary!['runId']).not.toBe(scored.summary!['runId']);
    const tag = String(again.summary!['runId']).slice(-12);
    const parts = (await fs.readdir(partition())).filter((f) => f.endsWith('.parquet')).sort();
    expect(parts).toEqual([0, 1, 2].map((i) => `part-0000${i}-${tag}-a1.parquet`));
    const after = await duckdbRows(`SELECT customer_id, score FROM read_parquet('${partition()}/part-*.parquet') ORDER BY customer_id`);
    expect(after).toEqual(before);
    const q = await churn(['query', 'SELECT count(*) AS n, count(DISTINCT customer_id) AS d FROM scores', '--scores', scores, '--json']);
    expect(JSON.parse(q.stdout.trim())).toEqual({ n: before.length, d: before.length });
  });

  it('shows CPU- and device-seconds, and with a price per device-hour the cost per million rows, in the same run', async () => {
    const args = ['score', '--input', data, '--model', model, '--output', scores, '--device', 'cpu', '--shard-rows', '100000', '--concurrency', '1'];
    const fromEnv = await churn(args, { env: { CHURN_PRICE_PER_DEVICE_HOUR: '4' } });
    expect(fromEnv.code).toBe(0);
    const summary = fromEnv.summary as { runId: string; rowsRead: number; cpuSeconds: number; deviceSeconds: number; cost: { pricePerDeviceHour: number; total: number; perMillionRows: number } };
    expect(summary.deviceSeconds).toBeGreaterThan(0);
    expect(summary.cost.pricePerDeviceHour).toBe(4);
    // Rounded to 6 decimals, half up: a tie is half a millionth off, which toBeCloseTo excludes.
    expect(Math.abs(summary.cost.total - (summary.deviceSeconds / 3600) * 4)).toBeLessThanOrEqual(0.5e-6 + 1e-12);
    // Both figures are rounded to 6 decimals from the unrounded cost, so the per-million figure
    // derived from the rounded total can be off by the total's rounding, scaled to a million rows.
    const slack = (0.5e-6 * 1e6) / summary.rowsRead + 0.5e-6;
    expect(Math.abs(summary.cost.perMillionRows - (summary.cost.total * 1e6) / summary.rowsRead)).toBeLessThanOrEqual(slack);
    expect(fromEnv.stderr).toContain(`time ${summary.cpuSeconds} CPU-s, ${summary.deviceSeconds} device-s; cost ${summary.cost.total} at 4 per device-hour, ${summary.cost.perMillionRows} per million rows`);
    const manifest = JSON.parse(await fs.readFile(path.join(partition(), '_manifest.json'), 'utf8')) as { runId: string; deviceSeconds: number; cost: unknown; shards: { deviceMs: number }[] };
    expect(manifest).toMatchObject({ runId: summary.runId, deviceSeconds: summary.deviceSeconds, cost: summary.cost });
    expect(manifest.shards.every((s) => s.deviceMs > 0)).toBe(true);
    // The flag wins over the environment; the price is an execution setting, so the run is the same.
    const fromFlag = await churn([...args, '--price-per-device-hour', '8'], { env: { CHURN_PRICE_PER_DEVICE_HOUR: '4' } });
    expect(fromFlag.code).toBe(0);
    expect(fromFlag.summary).toMatchObject({ runId: summary.runId, cost: { pricePerDeviceHour: 8 } });
    const bad = await churn(args, { env: { CHURN_PRICE_PER_DEVICE_HOUR: 'cheap' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/price-per-device-hour.*expected a number of at least 0, got "cheap"/);
  });
});
