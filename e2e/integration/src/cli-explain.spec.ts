/**
 * Explanations through the built `churn` binary and the committed model: the score table alone
 * answers "why is this customer at risk", contributions add up to the score, and they do not
 * depend on sharding or concurrency.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { churn, DEFAULT_BUNDLE } from './support/churn-cli';
import { duckdbRows } from './support/duckdb';

const AS_OF = '2026-06-01';

describe('churn score with explanations', () => {
  let dir: string;
  let data: string;
  let contribColumns: string[];
  let actionable: string[];
  const partition = (out: string) => path.join(dir, out, `as_of=${AS_OF}`, 'model=churn-mlp-1.0.0');
  const parts = (out: string) => `read_parquet('${partition(out)}/part-*.parquet', hive_partitioning = false)`;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-explain-'));
    data = path.join(dir, 'data');
    expect((await churn(['synth', '--customers', '12000', '--as-of', AS_OF, '--out', data, '--seed', '5', '--files', '2'])).code).toBe(0);
    const bundle = JSON.parse(await fs.readFile(path.join(DEFAULT_BUNDLE, 'bundle.json'), 'utf8')) as { features: { id: string; group?: string; actionable?: boolean }[] };
    const players = [...new Set(bundle.features.map((f) => f.group ?? f.id))];
    contribColumns = players.map((p) => `contrib_${p}`);
    actionable = bundle.features.filter((f) => f.actionable && !f.group).map((f) => f.id);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('explains the bands the bundle asks for, and every explained row adds up to its score', async () => {
    const run = await churn(['score', '--input', data, '--output', path.join(dir, 'default'), '--device', 'cpu']);
    expect(run.code).toBe(0);
    const s = run.summary!;
    const [check] = await duckdbRows(`SELECT
        count(*) FILTER (WHERE explained) AS explained,
        count(*) FILTER (WHERE explained <> (risk_band IN ('medium', 'high'))) AS policy_mismatch,
        max(abs(base_value + ${contribColumns.join(' + ')} - score)) FILTER (WHERE explained) AS max_gap,
        count(*) FILTER (WHERE NOT explained AND (base_value IS NOT NULL OR reason_1 IS NOT NULL OR ${contribColumns[0]} IS NOT NULL)) AS stray_values,
        count(*) FILTER (WHERE explained AND reason_1 IS NULL) AS no_reason
      FROM ${parts('default')}`);
    expect(check!['explained']).toBe(s['rowsExplained']);
    expect(Number(check!['explained'])).toBeGreaterThan(500);
    expect(check!['policy_mismatch']).toBe(0);
    expect(Number(check!['max_gap'])).toBeLessThan(1e-4);
    expect(check!['stray_values']).toBe(0);
    expect(check!['no_reason']).toBe(0);
  });

  it('offers only actionable features that push risk up as reasons, with readable texts', async () => {
    const rows = await duckdbRows(`SELECT reason_1, reason_2, reason_3, reason_1_text, reason_2_text, reason_3_text, ${contribColumns.join(', ')}
      FROM ${parts('default')} WHERE explained`);
    for (const row of rows) {
      for (const k of [1, 2, 3]) {
        const reason = row[`reason_${k}`] as string | null;
        if (reason === null) {
          expect(row[`reason_${k}_text`]).toBeNull();
          continue;
        }
        expect(actionable).toContain(reason);
        expect(Number(row[`contrib_${reason}`])).toBeGreaterThan(0);
        expect(row[`reason_${k}_text`]).toMatch(/\d/);
        expect(row[`reason_${k}_text`]).not.toMatch(/[{}?]/);
      }
    }
    const texts = rows.map((r) => String(r['reason_1_text'])).join('\n');
    expect(texts).toMatch(/support tickets unanswered for more than 48 hours|API error rate \d+(\.\d)?% over 30 days|uses \d+ of \d+ key features/);
  });

  it('gives identical contributions whatever the shard size and concurrency', async () => {
    const a = await churn(['score', '--input', data, '--output', path.join(dir, 'a'), '--device', 'cpu', '--explain', 'all', '--shard-rows', '1500', '--concurrency', '2']);
    const b = await churn(['score', '--input', data, '--output', path.join(dir, 'b'), '--device', 'cpu', '--explain', 'all', '--shard-rows', '100000', '--concurrency', '1']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.summary!['rowsExplained']).toBe(a.summary!['rowsScored']);
    const [diff] = await duckdbRows(`SELECT count(*) AS n, count(*) FILTER (WHERE ${contribColumns.map((c) => `x.${c} IS DISTINCT FROM y.${c}`).join(' OR ')} OR x.reason_1 IS DISTINCT FROM y.reason_1) AS different
      FROM ${parts('a')} x JOIN ${parts('b')} y USING (customer_id)`);
    expect(diff).toEqual({ n: a.summary!['rowsScored'], different: 0 });
  });

  it('explains in logit space against the feature centers when asked on the command line', async () => {
    const run = await churn(['score', '--input', data, '--output', path.join(dir, 'logit'), '--device', 'cpu', '--explain', 'score>=0.5', '--explain-space', 'logit', '--explain-baseline', 'center']);
    expect(run.code).toBe(0);
    const [check] = await duckdbRows(`SELECT count(*) FILTER (WHERE explained) AS explained,
        count(*) FILTER (WHERE explained <> (score >= 0.5)) AS policy_mismatch,
        max(abs(base_value + ${contribColumns.join(' + ')} - ln(score / (1 - score)))) FILTER (WHERE explained) AS max_gap
      FROM ${parts('logit')}`);
    expect(Number(check!['explained'])).toBeGreaterThan(0);
    expect(check!['policy_mismatch']).toBe(0);
    expect(Number(check!['max_gap'])).toBeLessThan(1e-3);
    const manifest = JSON.parse(await fs.readFile(path.join(partition('logit'), '_manifest.json'), 'utf8')) as { settings: { explain: Record<string, unknown> } };
    expect(manifest.settings.explain).toMatchObject({ policy: 'score>=0.5', space: 'logit', method: 'sampling', permutations: 8, baseline: 'center' });
  });

  it('writes the same schema with --explain none, explanation columns null', async () => {
    const run = await churn(['score', '--input', data, '--output', path.join(dir, 'none'), '--device', 'cpu', '--explain', 'none']);
    expect(run.code).toBe(0);
    expect(run.summary!['rowsExplained']).toBe(0);
    const describe = async (out: string) => (await duckdbRows(`DESCRIBE SELECT * FROM ${parts(out)}`)).map((c) => `${String(c['column_name'])} ${String(c['column_type'])}`);
    expect(await describe('none')).toEqual(await describe('default'));
    const [nulls] = await duckdbRows(`SELECT count(*) FILTER (WHERE explained) AS explained, count(reason_1) AS reasons, count(contrib_plan) AS contributions FROM ${parts('none')}`);
    expect(nulls).toEqual({ explained: 0, reasons: 0, contributions: 0 });
  });

  it('refuses an unknown explanation baseline, naming the choices', async () => {
    const run = await churn(['score', '--input', data, '--output', path.join(dir, 'bad-baseline'), '--explain-baseline', 'mode']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/option '--explain-baseline <baseline>' argument 'mode' is invalid\. Allowed choices are median, mean, center/);
  });

  it('refuses an unknown policy with the accepted forms', async () => {
    const run = await churn(['score', '--input', data, '--output', path.join(dir, 'bad'), '--explain', 'band:critical']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/INVALID_ARGUMENT/);
    expect(run.stderr).toMatch(/critical/);
  });
});
