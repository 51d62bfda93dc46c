import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ChurnError } from '@churn/errors';
import { parseBundleManifest, type BundleManifest, type FeatureSpec } from '@churn/model-bundle';
import { baselineVector } from './baseline';
import { playersOf } from './players';

const demoManifest = (): BundleManifest =>
  parseBundleManifest(JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'models', 'churn-mlp', 'bundle.json'), 'utf8')));

function feature(id: string, extra: Partial<FeatureSpec> = {}): FeatureSpec {
  return { id, transform: { kind: 'numeric', column: id }, fill: 0, log1p: false, center: 0, scale: 1, actionable: false, ...extra };
}

function thrown(work: () => unknown): ChurnError {
  try {
    work();
  } catch (error) {
    if (error instanceof ChurnError) return error;
    throw error;
  }
  throw new Error('expected a ChurnError');
}

describe('playersOf', () => {
  it('groups the demo bundle: 21 features, the four plan_* one-hot columns as one player, 18 players', () => {
    const manifest = demoManifest();
    const players = playersOf(manifest.features);
    expect(manifest.features).toHaveLength(21);
    expect(players).toHaveLength(18);
    expect(players[0]).toEqual({
      id: 'api_error_rate',
      features: [0],
      actionable: true,
      reason: 'API error rate {api_error_rate:pct} over 30 days ({api_errors_30d} errors in {api_calls_30d} calls)',
    });
    expect(players[17]).toEqual({ id: 'plan', features: [17, 18, 19, 20], actionable: false });
    expect(players.map((p) => p.id)).toContain('tenure');
    expect(players.find((p) => p.id === 'tenure')?.actionable).toBe(false);
  });

  it('orders players by first appearance, keeps member indices ascending, and merges actionable/reason', () => {
    const players = playersOf([
      feature('a'),
      feature('g1', { group: 'g' }),
      feature('b', { actionable: true, reason: 'b is {b}' }),
      feature('g2', { group: 'g', actionable: true, reason: 'g2 {g2}' }),
      feature('g3', { group: 'g', reason: 'g3 {g3}' }),
    ]);
    expect(players).toEqual([
      { id: 'a', features: [0], actionable: false },
      { id: 'g', features: [1, 3, 4], actionable: true, reason: 'g2 {g2}' },
      { id: 'b', features: [2], actionable: true, reason: 'b is {b}' },
    ]);
  });

  it('refuses a group named like an ungrouped feature (their contrib_ columns would collide)', () => {
    expect(thrown(() => playersOf([feature('plan'), feature('plan_pro', { group: 'plan' })])).code).toBe('INVALID_BUNDLE');
    expect(thrown(() => playersOf([feature('plan_pro', { group: 'plan' }), feature('plan')])).message).toMatch(/"plan" is defined twice/);
  });
});

describe('baselineVector', () => {
  it('standardises the reference medians (or means) of the demo bundle', () => {
    const manifest = demoManifest();
    const median = baselineVector(manifest);
    const mean = baselineVector(manifest, 'mean');
    expect(median).toHaveLength(21);
    manifest.features.forEach((f, i) => {
      const profile = manifest.reference!.features[f.id]!;
      expect(median[i]).toBeCloseTo((profile.median - f.center) / f.scale, 5);
      expect(mean[i]).toBeCloseTo((profile.mean - f.center) / f.scale, 5);
    });
    expect(Array.from(median).every(Number.isFinite)).toBe(true);
  });

  it('refuses a bundle without a reference profile, or without a feature in it, naming the feature', () => {
    const manifest = demoManifest();
    const noReference = { ...manifest, reference: undefined };
    const error = thrown(() => baselineVector(noReference));
    expect(error.code).toBe('INVALID_BUNDLE');
    expect(error.message).toMatch(/has no reference profile/);
    const features = { ...manifest.reference!.features };
    delete features['nps'];
    const partial = thrown(() => baselineVector({ ...manifest, reference: { ...manifest.reference!, features } }));
    expect(partial.code).toBe('INVALID_BUNDLE');
    expect(partial.message).toMatch(/no entry for feature "nps"/);
    expect(partial.details).toEqual({ feature: 'nps' });
  });
});
