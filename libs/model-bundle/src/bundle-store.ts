import { createHash } from 'node:crypto';
import { ChurnError, isChurnError } from '@churn/errors';
import { joinUri, normalizeUri, type ObjectStore } from '@churn/object-store';
import type { BundleManifest, BundleManifestInput } from './bundle-schema';
import { parseBundleManifest } from './bundle-validation';

/** A validated bundle with its model bytes, checksum verified. */
export interface LoadedBundle {
  uri: string;
  manifest: BundleManifest;
  modelBytes: Uint8Array;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `name-version`, the model's identity in paths and run ids. */
export function modelId(manifest: Pick<BundleManifest, 'name' | 'version'>): string {
  return `${manifest.name}-${manifest.version}`;
}

async function readOrExplain(store: ObjectStore, uri: string, what: string): Promise<Uint8Array> {
  try {
    return await store.get(uri);
  } catch (cause) {
    if (isChurnError(cause, 'INPUT_NOT_FOUND')) {
      throw new ChurnError('INVALID_BUNDLE', `model bundle has no ${what}: ${uri} does not exist; a bundle is a folder with bundle.json and model.onnx (see docs/bundle-format.md)`, { cause, details: { uri } });
    }
    throw cause;
  }
}

/** Loads bundle.json and model.onnx from a folder URI and refuses a model whose sha256 differs. */
export async function loadBundle(store: ObjectStore, bundleUri: string): Promise<LoadedBundle> {
  const uri = normalizeUri(bundleUri);
  const manifestUri = joinUri(uri, 'bundle.json');
  const raw = new TextDecoder().decode(await readOrExplain(store, manifestUri, 'bundle.json'));
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new ChurnError('INVALID_BUNDLE', `${manifestUri} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const manifest = parseBundleManifest(json, manifestUri);
  const modelUri = joinUri(uri, manifest.model.file);
  const modelBytes = await readOrExplain(store, modelUri, manifest.model.file);
  const actual = sha256Hex(modelBytes);
  if (actual !== manifest.model.sha256) {
    throw new ChurnError(
      'INVALID_BUNDLE',
      `checksum mismatch for ${modelUri}: bundle.json expects sha256 ${manifest.model.sha256} but the file hashes to ${actual}; the model was modified or replaced after bundling. Rebuild the bundle with \`churn bundle\` (or \`churn train\`) instead of editing it by hand`,
      { details: { uri: modelUri, expected: manifest.model.sha256, actual } },
    );
  }
  return { uri, manifest, modelBytes };
}

/**
 * Writes model.onnx then bundle.json (with the model's sha256 filled in). The manifest goes last,
 * so a crash in between leaves no bundle that claims a model it does not have.
 */
export async function writeBundle(
  store: ObjectStore,
  bundleUri: string,
  manifest: Omit<BundleManifestInput, 'model'> & { model: Omit<BundleManifestInput['model'], 'sha256'> & { sha256?: string } },
  modelBytes: Uint8Array,
): Promise<BundleManifest> {
  const complete = { ...manifest, model: { ...manifest.model, sha256: sha256Hex(modelBytes) } };
  const validated = parseBundleManifest(complete, joinUri(bundleUri, 'bundle.json'));
  await store.put(joinUri(bundleUri, validated.model.file), modelBytes);
  await store.put(joinUri(bundleUri, 'bundle.json'), `${JSON.stringify(complete, null, 2)}\n`);
  return validated;
}
