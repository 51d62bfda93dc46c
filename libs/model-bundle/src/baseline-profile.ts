import type { BundleManifest } from './bundle-schema';

/**
 * Features whose explanation baseline the bundle cannot compute: with `explain.baseline`
 * `median` or `mean` (and a policy that explains anything) every feature needs a reference
 * profile entry; `center` and explicit values need none. Empty when the bundle is complete.
 */
export function featuresMissingBaselineProfile(manifest: Pick<BundleManifest, 'explain' | 'features' | 'reference'>): string[] {
  const { baseline, policy } = manifest.explain;
  if (typeof baseline === 'object' || baseline === 'center' || policy.trim() === 'none') return [];
  const profiles = manifest.reference?.features ?? {};
  return manifest.features.filter((f) => !profiles[f.id]).map((f) => f.id);
}
