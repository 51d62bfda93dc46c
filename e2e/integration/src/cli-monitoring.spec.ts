/**
 * The monitoring commands through the built `churn` binary: `synth --drift`, `bundle` refusing a
 * baseline without a profile, `profile`, and `evaluate` against the AUC `churn demo` prints.
 */
import { exitCodeOf } from '@churn/errors';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBundle } from '@churn/model-bundle';
import { rocAuc } from '@churn/monitoring';
import { LocalObjectStore } from '@churn/object-store';
import { runEvaluationSchema } from '@churn/report';
import { DRIFT_SCENARIOS } from '@churn/synth-data';
import { churn } from './support/churn-cli';
import { duckdbRows } from './support/duckdb';
import { bundleFormatExample, sklearnLikeOnnx } from './support/sklearn-like-model';

const MODEL = 'churn-mlp-1.0.0';

describe('monitoring commands', () => {
  let dir: string;
  const store = new LocalObjectStore();

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-monitoring-'));
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('synth --drift offers exactly the documented scenarios; new-plan rows are quarantined as an unknown plan', async () => {
    const bad = await churn(['synth', '--customers', '100', '--as-of', '2026-04-01', '--out', path.join(dir, 'bad'), '--drift', 'meteor']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`Allowed choices are ${DRIFT_SCENARIOS.join(', ')}`);
    const data = path.join(dir, 'new-plan');
    const synth = await churn(['synth', '--customers', '6000', '--as-of', '2026-04-01', '--out', data, '--files', '2', '--drift', 'new-plan']);
    expect(synth.code).toBe(0);
    expect(synth.stderr).toContain('drift scenario new-plan: a new plan "team" launches');
    expect(synth.summary).toMatchObject({ drift: 'new-plan', rows: 6000 });
    const scored = await churn(['score', '--input', data, '--output', path.join(dir, 'new-plan-scores'), '--device', 'cpu']);
    expect(scored.code).toBe(0);
    const quarantined = Number(scored.summary!['rowsQuarantined']);
    expect(quarantined / 6000).toBeGreaterThan(0.025);
    expect(quarantined / 6000).toBeLessThan(0.045);
    // One reason for all of them: the unknown category (`unknown_category` once quarantine has reason codes).
    const reasons = Object.entries(scored.summary!['quarantineReasons'] as Record<string, number>);
    expect(reasons).toEqual([[expect.stringMatching(/unknown.category/), quarantined]]);
  });

  describe('bundles of models trained elsewhere', () => {
    let spec: Record<string, unknown>;
    const onnxFile = () => path.join(dir, 'sklearn.onnx');
    const training = () => path.join(dir, 'training');

    beforeAll(async () => {
      spec = JSON.parse(await bundleFormatExample()) as Record<string, unknown>;
      await fs.writeFile(onnxFile(), sklearnLikeOnnx([1.2, 0.8, -0.5, -0.3], -2));
      expect((await churn(['synth', '--customers', '5000', '--as-of', '2026-03-01', '--out', training(), '--files', '1', '--seed', '4'])).code).toBe(0);
    });

    async function writeSpec(name: string, explain: Record<string, unknown>): Promise<string> {
      const file = path.join(dir, `${name}.json`);
      await fs.writeFile(file, JSON.stringify({ ...spec, explain: { ...(spec['explain'] as object), ...explain } }));
      return file;
    }

    it('refuses a median baseline without a reference profile, saying how to add one', async () => {
      const run = await churn(['bundle', '--onnx', onnxFile(), '--spec', await writeSpec('median', { baseline: 'median' }), '--out', path.join(dir, 'refused')]);
      expect(run.code).toBe(exitCodeOf('INVALID_BUNDLE'));
      expect(run.stderr).toMatch(/INVALID_BUNDLE/);
      expect(run.stderr).toMatch(/no reference profile for any feature/);
      expect(run.stderr).toContain('--profile-data');
      expect(run.stderr).toContain('churn profile --data');
      expect(run.stderr).toContain('"baseline": "center"');
      await expect(fs.stat(path.join(dir, 'refused', 'bundle.json'))).rejects.toThrow();
    });

    it('profiles at bundling time with --profile-data', async () => {
      const out = path.join(dir, 'profiled-at-bundle');
      const run = await churn(['bundle', '--onnx', onnxFile(), '--spec', await writeSpec('mean', { baseline: 'mean' }), '--out', out, '--profile-data', training()]);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/reference profile of \d+ rows/);
      const bundle = await loadBundle(store, out);
      expect(Object.keys(bundle.manifest.reference!.features)).toEqual(['api_error_rate', 'tickets_unanswered_48h', 'tenure', 'plan_enterprise']);
      expect(Number(run.summary!['profiledRows'])).toBe(bundle.manifest.reference!.rows);
    });

    it('churn profile adds a profile to a center-baseline bundle, keeping the checksum rules', async () => {
      const out = path.join(dir, 'center');
      expect((await churn(['bundle', '--onnx', onnxFile(), '--spec', await writeSpec('center', { baseline: 'center' }), '--out', out])).code).toBe(0);
      expect((await loadBundle(store, out)).manifest.reference).toBeUndefined();
      const profiled = await churn(['profile', '--data', training(), '--model', out]);
      expect(profiled.code).toBe(0);
      const bundle = await loadBundle(store, out);
      expect(bundle.manifest.reference!.rows).toBe(profiled.summary!['rowsProfiled']);
      expect(bundle.manifest.reference!.score.counts.reduce((a, b) => a + b, 0)).toBe(bundle.manifest.reference!.rows);
      expect(profiled.summary!['sha256']).toBe(bundle.manifest.model.sha256);
      // now it can explain against the median
      const scored = await churn(['score', '--input', training(), '--model', out, '--output', path.join(dir, 'center-scores'), '--device', 'cpu', '--explain-baseline', 'median']);
      expect(scored.code).toBe(0);
    });
  });

  it('churn demo evaluates its run, prints the report path and writes the report', async () => {
    const demoDir = path.join(dir, 'demo');
    const demo = await churn(['demo', '--customers', '6000', '--dir', demoDir, '--as-of', '2026-02-01', '--device', 'cpu']);
    expect(demo.code).toBe(0);
    const report = path.join(demoDir, 'report.html');
    expect(demo.stdout).toContain(`  report      ${report}`);
    expect(demo.summary!['report']).toBe(report);
    // the evaluated AUC and the fresh-snapshot AUC the demo prints agree
    expect(Math.abs(Number(demo.summary!['evaluatedAuc']) - Number(demo.summary!['freshAuc']))).toBeLessThan(0.01);
    const html = await fs.readFile(report, 'utf8');
    expect(html).toContain('<canvas id="chart-score"');
    // every run computes drift against the bundle's reference; a fresh snapshot from the same generator is within thresholds
    expect(html).toContain('id="drift-ok"');
    expect(html).not.toContain('id="drift-none"');
  });

  it('evaluate on the generator\'s own labels matches the fresh-snapshot AUC the demo prints, and stores the sidecar', async () => {
    const asOf = '2026-05-01';
    const data = path.join(dir, 'eval-data');
    const scores = path.join(dir, 'eval-scores');
    expect((await churn(['synth', '--customers', '20000', '--as-of', asOf, '--out', data, '--seed', '2026', '--files', '2'])).code).toBe(0);
    expect((await churn(['score', '--input', data, '--as-of', asOf, '--output', scores, '--device', 'cpu'])).code).toBe(0);
    // The demo's AUC: the committed scores joined with the snapshot's labels in DuckDB, then rocAuc.
    const partition = path.join(scores, `as_of=${asOf}`, `model=${MODEL}`);
    const joined = await duckdbRows(
      `SELECT s.score, i.churned_within_30d::INTEGER AS label FROM read_parquet('${partition}/part-*.parquet') s JOIN read_parquet('${data}/as_of=${asOf}/*.parquet') i USING (customer_id)`,
    );
    const demoAuc = rocAuc(joined.map((r) => Number(r['score'])), joined.map((r) => Number(r['label'])));

    const evaluated = await churn(['evaluate', '--scores', scores, '--as-of', asOf, '--model', MODEL, '--labels', data]);
    expect(evaluated.code).toBe(0);
    const evaluation = runEvaluationSchema.parse(evaluated.summary);
    expect(Math.abs(evaluation.metrics.auc! - demoAuc)).toBeLessThan(0.01);
    expect(evaluation.rowsJoined).toBe(joined.length);
    expect(evaluation.trainingAuc).toBeCloseTo((await loadBundle(store, path.join(__dirname, '..', '..', '..', 'models', 'churn-mlp'))).manifest.training!.heldOutAuc, 12);
    expect(evaluation.metrics.calibration).toHaveLength(10);
    const sidecar = runEvaluationSchema.parse(JSON.parse(await fs.readFile(path.join(partition, '_evaluation.json'), 'utf8')));
    expect(sidecar.metrics).toEqual(evaluation.metrics);

    // Any Parquet with customer_id and a label works, under any column name.
    const labels = path.join(dir, 'outcomes.parquet');
    await duckdbRows(`COPY (SELECT customer_id, churned_within_30d AS churned FROM read_parquet('${data}/as_of=${asOf}/*.parquet')) TO '${labels}' (FORMAT parquet)`);
    const fromFile = await churn(['evaluate', '--scores', scores, '--as-of', asOf, '--model', MODEL, '--labels', labels, '--label-column', 'churned']);
    expect(fromFile.code).toBe(0);
    expect(runEvaluationSchema.parse(fromFile.summary).metrics.auc).toBeCloseTo(evaluation.metrics.auc!, 12);

    const missing = await churn(['evaluate', '--scores', scores, '--as-of', '2026-05-02', '--model', MODEL, '--labels', data]);
    expect(missing.code).toBe(exitCodeOf('INPUT_NOT_FOUND'));
    expect(missing.stderr).toContain(`committed as-of dates: ${asOf}`);
  });
});
