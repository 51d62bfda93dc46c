export * from './bundle-schema';
export { parseBundleManifest, semanticProblems } from './bundle-validation';
export { loadBundle, writeBundle, sha256Hex, modelId } from './bundle-store';
export type { LoadedBundle } from './bundle-store';
export { riskBandOf, riskBandIndex } from './risk-bands';
