/**
 * Drift on every run, through the built `churn` binary and the committed bundle's reference
 * profile: a clean snapshot alerts nothing, a drifted one alerts its features; the gate `warn`
 * commits and exits 0, `hold` commits but keeps the previous run as the latest until
 * `churn release`, `fail` commits nothing.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exitCodeOf } from '@churn/errors';
import { runSummarySchema, type RunSummary } from '@churn/scoring';
import { churn } from './support/churn-cli';

const CLEAN = '2026-09-01';
const DRIFTED = '2026-09-02';

describe('the drift gate', () => {
  let dir: string;
  let data: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-drift-gate-'));
    data = path.join(dir, 'data');
    expect((await churn(['synth', '--customers', '20000', '--as-of', CLEAN, '--out', data, '--seed', '31', '--files', '2'])).code).toBe(0);
    expect((await churn(['synth', '--customers', '20000', '--as-of', DRIFTED, '--out', data, '--seed', '32', '--files', '2', '--drift', 'api-errors-up'])).code).toBe(0);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const summaryOf = (stdout: string): RunSummary => runSummarySchema.parse(JSON.parse(stdout.trim().split('\n').at(-1)!));
  const score = (asOf: string, output: string, ...extra: string[]) => churn(['score', '--input', data, '--as-of', asOf, '--output', path.join(dir, output), '--device', 'cpu', '--explain', 'none', ...extra]);
  const latest = async (output: string) => {
    const q = await churn(['query', 'SELECT DISTINCT CAST(as_of AS VARCHAR) AS d FROM scores_latest', '--scores', path.join(dir, output), '--json']);
    expect(q.code).toBe(0);
    return q.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { d: string }).d);
  };

  it('alerts nothing on a clean snapshot, and the drifted features with the default warn gate (exit 0)', async () => {
    const clean = await score(CLEAN, 'warn');
    expect(clean.code).toBe(0);
    expect(summaryOf(clean.stdout)).toMatchObject({ drift: { status: 'ok', alerts: [] }, held: false });
    const drifted = await score(DRIFTED, 'warn');
    expect(drifted.code).toBe(0);
    const s = summaryOf(drifted.stdout);
    expect(s.drift!.status).toBe('alert');
    expect(s.drift!.alerts).toContain('api_error_rate');
    expect(drifted.stderr).toMatch(/drift alert against the training profile \(alerting: .*api_error_rate/);
    const manifest = JSON.parse(await fs.readFile(path.join(s.manifest.replace('file://', '')), 'utf8')) as { drift: { features: { id: string; psi: number; status: string }[] }; gate: unknown };
    expect(manifest.gate).toEqual({ onDrift: 'warn', held: false });
    expect(manifest.drift.features.find((f) => f.id === 'api_error_rate')!.psi).toBeGreaterThan(0.25);
    expect(await latest('warn')).toEqual([DRIFTED]);
  });

  it('holds a drifted run back from the latest scores until churn release', async () => {
    expect((await score(CLEAN, 'hold', '--on-drift', 'hold')).code).toBe(0);
    const held = await score(DRIFTED, 'hold', '--on-drift', 'hold');
    expect(held.code).toBe(exitCodeOf('DRIFT_HELD'));
    const s = summaryOf(held.stdout);
    expect(s.held).toBe(true);
    expect(held.stderr).toMatch(/error \[DRIFT_HELD\]: run .* is committed but held back/);
    // Committed (its rows are in `scores`), but `scores_latest` still answers with the clean day.
    await expect(fs.stat(path.join(dir, 'hold', `as_of=${DRIFTED}`, 'model=churn-mlp-1.0.0', '_SUCCESS'))).resolves.toBeDefined();
    expect(await latest('hold')).toEqual([CLEAN]);
    const release = await churn(['release', s.runId, '--scores', path.join(dir, 'hold')]);
    expect(release.code).toBe(0);
    expect(await latest('hold')).toEqual([DRIFTED]);
    const again = await churn(['release', s.runId, '--scores', path.join(dir, 'hold')]);
    expect(again.code).toBe(exitCodeOf('INVALID_ARGUMENT'));
  });

  it('commits nothing for a drifted run with the fail gate, keeping the previous version', async () => {
    expect((await score(DRIFTED, 'fail', '--on-drift', 'warn')).code).toBe(0);
    const failed = await score(DRIFTED, 'fail', '--on-drift', 'fail');
    expect(failed.code).toBe(exitCodeOf('DRIFT_FAILED'));
    expect(failed.stderr).toMatch(/error \[DRIFT_FAILED\]: run .* drifted from the training profile \(alerting: .*api_error_rate.*\); with the fail gate nothing was committed \(see --on-drift\)/);
    // The earlier (warn) version of the partition is what stays committed.
    const q = await churn(['query', "SELECT count(DISTINCT run_id) AS runs FROM scores", '--scores', path.join(dir, 'fail'), '--json']);
    expect(JSON.parse(q.stdout.trim())).toEqual({ runs: 1 });
    const clean = await score(CLEAN, 'fail', '--on-drift', 'fail');
    expect(clean.code).toBe(0);
  });
});
