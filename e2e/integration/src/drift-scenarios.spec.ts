/**
 * `churn synth --drift`: each documented scenario makes its drifted features alert against the
 * committed bundle's training reference and leaves the features it cannot touch below the warn
 * threshold; a clean snapshot of the same generator alerts nothing. Measured as a scoring run
 * measures it (support/drift-of-snapshot.ts): real contract check, feature pipeline, ONNX model.
 */
import { loadBundle, type LoadedBundle } from '@churn/model-bundle';
import type { DriftReport } from '@churn/monitoring';
import { LocalObjectStore } from '@churn/object-store';
import { DRIFT_SCENARIOS, type DriftScenario } from '@churn/synth-data';
import { DEFAULT_BUNDLE } from './support/churn-cli';
import { driftOfSnapshot } from './support/drift-of-snapshot';

/** Plan drives most marginals (docs/synthetic-data.md), so a plan-mix shift moves all of these. */
const PLAN_DEPENDENT = [
  'api_error_rate', 'api_calls', 'feature_adoption', 'tickets_unanswered_48h', 'support_tickets_open', 'seat_utilization', 'seats_purchased',
  'billing_failures_90d', 'login_trend', 'logins_30d', 'days_since_last_login', 'never_logged_in', 'tenure', 'mrr', 'plan_free', 'plan_starter', 'plan_pro', 'plan_enterprise',
];

/** What must alert, and what may move without alerting being asserted (indirect effects, documented). */
const EXPECTED: Record<DriftScenario, { alerts: string[]; mayMove: string[] }> = {
  'api-errors-up': { alerts: ['api_error_rate'], mayMove: ['score'] },
  'plan-mix-shift': { alerts: ['plan_free', 'plan_enterprise', 'seats_purchased', 'mrr', 'api_calls', 'logins_30d'], mayMove: [...PLAN_DEPENDENT, 'score'] },
  'seat-contraction': { alerts: ['seat_utilization'], mayMove: ['score'] },
  'new-plan': { alerts: ['quarantine_rate'], mayMove: [] },
  'column-null': { alerts: ['nps', 'nps_missing'], mayMove: ['score'] },
};

const SNAPSHOT = { customers: 40_000, asOf: '2026-06-01', seed: 99, files: 2 } as const;

function statusOf(report: DriftReport, id: string): string {
  if (id === 'score') return report.score.status;
  if (id === 'quarantine_rate') return report.quarantine.status;
  return report.features.find((f) => f.id === id)!.status;
}

function psiOf(report: DriftReport, id: string): number {
  return id === 'score' ? report.score.psi! : report.features.find((f) => f.id === id)!.psi!;
}

describe('drift scenarios against the committed bundle', () => {
  let bundle: LoadedBundle;

  beforeAll(async () => {
    bundle = await loadBundle(new LocalObjectStore(), DEFAULT_BUNDLE);
  });

  it('alerts nothing on a clean snapshot of the same generator', async () => {
    const report = await driftOfSnapshot(bundle, SNAPSHOT);
    expect(report.alerts).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.status).toBe('ok');
    for (const f of report.features) expect([f.id, f.psi!]).toEqual([f.id, expect.any(Number)]);
    expect(Math.max(...report.features.map((f) => f.psi!), report.score.psi!)).toBeLessThan(0.02);
  });

  it.each(DRIFT_SCENARIOS)('%s: the drifted features alert, untouched ones stay below warn', async (scenario) => {
    const report = await driftOfSnapshot(bundle, { ...SNAPSHOT, drift: scenario });
    const { alerts, mayMove } = EXPECTED[scenario];
    for (const id of alerts) expect([id, statusOf(report, id)]).toEqual([id, 'alert']);
    const untouched = [...report.features.map((f) => f.id), 'score'].filter((id) => !alerts.includes(id) && !mayMove.includes(id));
    expect(untouched.length).toBeGreaterThan(0);
    for (const id of untouched) {
      expect([id, psiOf(report, id)]).toEqual([id, expect.any(Number)]);
      expect([id, psiOf(report, id) < report.thresholds.psiWarn, statusOf(report, id)]).toEqual([id, true, 'ok']);
    }
    if (!alerts.includes('quarantine_rate')) expect(report.quarantine.status).toBe('ok');
    expect(report.status).toBe('alert');
  });
});
