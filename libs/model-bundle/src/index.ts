export * from './bundle-schema';
export { parseBundleManifest, semanticProblems } from './bundle-validation';
export { loadBundle, writeBundle, modelId, modelIoOf } from './bundle-store';
export { bundleDigest, canonicalJson, sha256Hex } from './bundle-digest';
export type { LoadedBundle } from './bundle-store';
export { riskBandOf, riskBandIndex } from './risk-bands';
export { featuresMissingBaselineProfile } from './baseline-profile';
