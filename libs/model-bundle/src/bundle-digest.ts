import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level and no insignificant whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The bundle's identity: sha256 over the canonical form of bundle.json as written (keys sorted,
 * whitespace ignored) and the model file's bytes. Any change that can change a score (feature
 * order, fills, bands, the model) changes it; reformatting the JSON does not. Recorded in every
 * manifest and score row (`model_digest`).
 */
export function bundleDigest(bundleJson: unknown, modelBytes: Uint8Array): string {
  return sha256Hex(`churn-bundle-digest-v1\n${canonicalJson(bundleJson)}\n${sha256Hex(modelBytes)}`);
}
