import { featuresMissingBaselineProfile } from './baseline-profile';
import { bundleManifestSchema, type BundleManifest } from './bundle-schema';

const profile = { edges: [0, 1], counts: [3], nullRate: 0, mean: 0.5, median: 0.5, min: 0, max: 1 };

function manifest(explain: Partial<BundleManifest['explain']>, reference?: BundleManifest['reference']): Pick<BundleManifest, 'explain' | 'features' | 'reference'> {
  const explainSettings = bundleManifestSchema.shape.explain.parse(explain);
  return {
    explain: explainSettings,
    features: [
      { id: 'a', transform: { kind: 'numeric', column: 'a' }, fill: 0, log1p: false, center: 0, scale: 1, actionable: false },
      { id: 'b', transform: { kind: 'numeric', column: 'b' }, fill: 0, log1p: false, center: 0, scale: 1, actionable: false },
    ],
    ...(reference ? { reference } : {}),
  };
}

const score = { edges: [0, 1], counts: [3], quantiles: Array.from({ length: 101 }, () => 0.5), mean: 0.5 };

describe('featuresMissingBaselineProfile', () => {
  it('lists every feature when the default median baseline has no profile', () => {
    expect(featuresMissingBaselineProfile(manifest({}))).toEqual(['a', 'b']);
    expect(featuresMissingBaselineProfile(manifest({ baseline: 'mean' }))).toEqual(['a', 'b']);
  });

  it('lists only the features the profile lacks', () => {
    expect(featuresMissingBaselineProfile(manifest({}, { rows: 3, features: { a: profile }, score }))).toEqual(['b']);
    expect(featuresMissingBaselineProfile(manifest({}, { rows: 3, features: { a: profile, b: profile }, score }))).toEqual([]);
  });

  it('needs nothing for the center baseline or a bundle that explains nothing', () => {
    expect(featuresMissingBaselineProfile(manifest({ baseline: 'center' }))).toEqual([]);
    expect(featuresMissingBaselineProfile(manifest({ policy: 'none' }))).toEqual([]);
  });
});
