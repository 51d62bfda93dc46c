/**
 * Dirty input: row-level faults are quarantined with reasons and the accounting still balances;
 * a file with a column of the wrong type (an upstream schema break) stops the run by default.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { churn, successMarkers } from './support/churn-cli';
import { duckdbRows } from './support/duckdb';

const AS_OF = '2026-04-01';

interface SynthSummary {
  files: { uri: string; rows: number; faults: Record<string, number> }[];
}

describe('churn score on --dirty data', () => {
  let dir: string;
  let data: string;
  let synth: SynthSummary;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-dirty-'));
    data = path.join(dir, 'data');
    const run = await churn(['synth', '--customers', '20000', '--as-of', AS_OF, '--out', data, '--seed', '21', '--files', '4', '--dirty', '0.03']);
    expect(run.code).toBe(0);
    synth = run.summary as unknown as SynthSummary;
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('fails the run on the wrong-type file, naming file, column and reason, with no _SUCCESS', async () => {
    const output = path.join(dir, 'strict');
    const run = await churn(['score', '--input', data, '--output', output, '--device', 'cpu']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/CONTRACT_VIOLATION/);
    expect(run.stderr).toMatch(/part-00003\.parquet/);
    expect(run.stderr).toMatch(/tenure_days: has Arrow type Utf8 where the contract expects integer/);
    expect(run.stderr).toMatch(/over the limit of 5\.0%/);
    expect(await successMarkers(output)).toEqual([]);
  });

  it('quarantines exactly the faulty rows with reasons, and every row is accounted for', async () => {
    const output = path.join(dir, 'lenient');
    const run = await churn(['score', '--input', data, '--output', output, '--device', 'cpu', '--max-bad-fraction', '1', '--shard-rows', '2500']);
    expect(run.code).toBe(0);
    const s = run.summary!;
    expect(Number(s['rowsScored']) + Number(s['rowsQuarantined']) + Number(s['rowsIneligible'])).toBe(20000);

    // Every row of the wrong-type file is quarantined; elsewhere each injected fault is one row.
    const wrongTypeFile = synth.files[3]!;
    const injected = synth.files.slice(0, 3).reduce((n, f) => n + Object.entries(f.faults).reduce((a, [k, v]) => a + (k === 'wrong_type_column' ? 0 : v), 0), 0);
    expect(s['rowsQuarantined']).toBe(wrongTypeFile.rows + injected);

    const partition = path.join(output, `as_of=${AS_OF}`, 'model=churn-mlp-1.0.0');
    const [q] = await duckdbRows(`SELECT count(*) AS n, count(DISTINCT source_file || ':' || row_index) AS distinct_rows, count(*) FILTER (WHERE reason IS NULL OR reason = '') AS no_reason
      FROM read_parquet('${partition}/_quarantine/*.parquet', hive_partitioning = false)`);
    expect(q).toEqual({ n: s['rowsQuarantined'], distinct_rows: s['rowsQuarantined'], no_reason: 0 });
    const reasons = await duckdbRows(`SELECT reason FROM read_parquet('${partition}/_quarantine/*.parquet', hive_partitioning = false)`);
    const text = reasons.map((r) => String(r['reason'])).join('\n');
    for (const expected of [/null in a required column/, /is below the minimum 0/, /NaN is not a valid value|Infinity is not a valid value/, /unknown category/, /duplicate id/, /tenure_days: has Arrow type Utf8/]) {
      expect(text).toMatch(expected);
    }
    // No quarantined row reached the score table.
    const [overlap] = await duckdbRows(`SELECT count(*) AS n FROM read_parquet('${partition}/part-*.parquet', hive_partitioning = false) s
      JOIN read_parquet('${partition}/_quarantine/*.parquet', hive_partitioning = false) q ON s.customer_id = q.customer_id AND q.reason NOT LIKE '%duplicate id%'`);
    expect(overlap).toEqual({ n: 0 });
    const manifest = JSON.parse(await fs.readFile(path.join(partition, '_manifest.json'), 'utf8')) as { rowsQuarantined: number; quarantineReasons: Record<string, number> };
    expect(manifest.rowsQuarantined).toBe(s['rowsQuarantined']);
    expect(Object.keys(manifest.quarantineReasons).length).toBeGreaterThanOrEqual(5);
  });
});
