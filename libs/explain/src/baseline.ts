import { ChurnError } from '@churn/errors';
import { finishValue } from '@churn/feature-transforms';
import type { BaselineKind, BundleManifest } from '@churn/model-bundle';

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
 * `explicit` uses the bundle's `explain.baseline` values (`values`: one row; `background`: a
 * sample, one row each, row-major), given like a customer's feature values and put through the
 * feature's fill, clip, log1p and standardisation; `null` is a missing value.
 *
 * @throws ChurnError INVALID_BUNDLE when the bundle has no reference profile for a feature.
 */
export function baselineVector(manifest: BundleManifest, kind: BaselineKind | 'explicit' = 'median'): Float32Array {
  if (kind === 'explicit') return explicitBaseline(manifest);
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

function explicitBaseline(manifest: BundleManifest): Float32Array {
  const spec = manifest.explain.baseline;
  const where = `bundle ${manifest.name}-${manifest.version}`;
  if (typeof spec !== 'object') {
    throw new ChurnError('INVALID_ARGUMENT', `${where} has no explicit baseline values (its explain.baseline is "${spec}"); choose median, mean or center`, { settings: ['explainBaseline'] });
  }
  const rows = spec.values ? [spec.values] : (spec.background ?? []);
  const width = manifest.features.length;
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    manifest.features.forEach((feature, f) => {
      const value = row[feature.id];
      if (value === undefined) {
        throw new ChurnError('INVALID_BUNDLE', `${where}: explain.baseline gives no value for feature "${feature.id}"; add one (null for a missing value)`, { details: { feature: feature.id } });
      }
      out[r * width + f] = finishValue(feature, value ?? Number.NaN);
    });
  });
  return out;
}
