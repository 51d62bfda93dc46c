import { ChurnError } from '@churn/errors';
import type { BundleManifest } from '@churn/model-bundle';

/**
 * The explanation baseline in model input space: per feature, the reference profile's median (or
 * mean) of the value before standardisation, then `(v - center) / scale`, exactly as the feature
 * pipeline would standardise it. Contributions explain f(x) - f(baseline).
 *
 * Note that per-feature medians of one-hot columns are 0 or 1 each (and means are fractions), so
 * the baseline row need not be a possible customer; Shapley values against it are still well
 * defined, and groups keep the one-hot columns moving together.
 *
 * `center` uses each feature's standardisation center instead (zeros in model space).
 *
 * @throws ChurnError INVALID_BUNDLE when the bundle has no reference profile for a feature.
 */
export function baselineVector(manifest: BundleManifest, kind: 'median' | 'mean' | 'center' = 'median'): Float32Array {
  // (center - center) / scale: the standardisation centers need no reference profile.
  if (kind === 'center') return new Float32Array(manifest.features.length);
  const profiles = manifest.reference?.features;
  const where = `bundle ${manifest.name}-${manifest.version}`;
  if (!profiles) {
    throw new ChurnError('INVALID_BUNDLE', `${where} has no reference profile, so it has no explanation baseline; re-train it with \`churn train\`, add "reference" to bundle.json, set "explain": { "baseline": "center" }, or run with --explain none`);
  }
  const out = new Float32Array(manifest.features.length);
  manifest.features.forEach((feature, f) => {
    const profile = profiles[feature.id];
    if (!profile) {
      throw new ChurnError('INVALID_BUNDLE', `${where}: the reference profile has no entry for feature "${feature.id}", so it has no explanation baseline; add reference.features.${feature.id} (with its ${kind}) to bundle.json, or run with --explain none`, {
        details: { feature: feature.id },
      });
    }
    out[f] = (profile[kind] - feature.center) / feature.scale;
  });
  return out;
}
