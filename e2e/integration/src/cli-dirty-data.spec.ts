/**
 * Dirty input: row-level faults are quarantined with reasons and the accounting still balances;
 * a file with a column of the wrong type (an upstream schema break) stops the run by default.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { QUARANTINE_REASONS } from '@churn/feature-transforms';
import { churn, successMarkers } from './support/churn-cli';
import { duckdbRows } from './support/duckdb';

const AS_OF = '2026-04-01';

/** What `churn synth` prints, as far as this test reads it. */
const synthSummarySchema = z.object({ files: z.array(z.object({ uri: z.string(), rows: z.number(), faults: z.record(z.string(), z.number()) })) });
type SynthSummary = z.infer<typeof synthSummarySchema>;

describe('churn score on --dirty data', () => {
  let dir: string;
  let data: string;
  let synth: SynthSummary;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-dirty-'));
    data = path.join(dir, 'data');
    const run = await churn(['synth', '--customers', '20000', '--as-of', AS_OF, '--out', data, '--seed', '21', '--files', '4', '--dirty', '0.03']);
    expect(run.code).toBe(0);
    synth = synthSummarySchema.parse(run.summary);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('fails the run on the wrong-type file, naming file, column and reason, with no _SUCCESS', async () => {
    const output = path.join(dir, 'strict');
    const run = await churn(['score', '--input', data, '--output', output, '--device', 'cpu']);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/CONTRACT_VIOLATION/);
    expect(run.stderr).toMatch(/part-00003\.parquet/);
    expect(run.stderr).toMatch(/tenure_days: wrong_type \(\d+ rows, e\.g\. tenure_days: has Arrow type Utf8 where the contract expects integer\)/);
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
    // The quarantine is its own table, beside the score table: score globs never reach it.
    const quarantine = `read_parquet('${output}_quarantine/as_of=${AS_OF}/model=churn-mlp-1.0.0/*.parquet', hive_partitioning = false)`;
    const [q] = await duckdbRows(`SELECT count(*) AS n, count(DISTINCT source_file || ':' || row_index) AS distinct_rows, count(*) FILTER (WHERE reason_detail IS NULL OR reason_detail = '') AS no_detail
      FROM ${quarantine}`);
    expect(q).toEqual({ n: s['rowsQuarantined'], distinct_rows: s['rowsQuarantined'], no_detail: 0 });
    const codes = await duckdbRows(`SELECT reason_code, count(*) AS n FROM ${quarantine} GROUP BY 1 ORDER BY 1`);
    expect(codes.map((r) => r['reason_code'])).toEqual(['below_min', 'duplicate_id', 'not_finite', 'null_required', 'unknown_category', 'wrong_type']);
    for (const r of codes) expect(QUARANTINE_REASONS).toContain(r['reason_code']);
    // Injected duplicates count every copy, and so does the quarantine (the mistyped file's rows are all wrong_type or worse).
    const injectedDuplicates = synth.files.slice(0, 3).reduce((n, f) => n + (f.faults['duplicate_id'] ?? 0), 0);
    expect(codes.find((r) => r['reason_code'] === 'duplicate_id')!['n']).toBe(injectedDuplicates);
    // No quarantined row reached the score table.
    const [overlap] = await duckdbRows(`SELECT count(*) AS n FROM read_parquet('${partition}/part-*.parquet', hive_partitioning = false) s JOIN ${quarantine} q ON s.customer_id = q.customer_id`);
    expect(overlap).toEqual({ n: 0 });
    const manifest = JSON.parse(await fs.readFile(path.join(partition, '_manifest.json'), 'utf8')) as { rowsQuarantined: number; quarantineReasons: Record<string, number> };
    expect(manifest.rowsQuarantined).toBe(s['rowsQuarantined']);
    // One primary code per row: the per-code counts add up to the rows quarantined.
    expect(Object.values(manifest.quarantineReasons).reduce((a, b) => a + b, 0)).toBe(manifest.rowsQuarantined);
    expect(Object.fromEntries(codes.map((r) => [r['reason_code'], r['n']]))).toEqual(manifest.quarantineReasons);
    const view = await churn(['query', 'SELECT count(*) AS n FROM quarantine', '--scores', output, '--json']);
    expect(JSON.parse(view.stdout.trim())).toEqual({ n: manifest.rowsQuarantined });
  });
});
