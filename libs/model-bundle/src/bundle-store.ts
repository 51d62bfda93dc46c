import { ChurnError, isChurnError } from '@churn/errors';
import { joinUri, normalizeUri, type ObjectStore } from '@churn/object-store';
import type { BundleManifest, BundleManifestInput } from './bundle-schema';
import { bundleDigest, sha256Hex } from './bundle-digest';
import { parseBundleManifest } from './bundle-validation';

/** A validated bundle with its model bytes, checksum verified. */
export interface LoadedBundle {
  uri: string;
  manifest: BundleManifest;
  modelBytes: Uint8Array;
  /** sha256 over canonical bundle.json and model.onnx together (see bundleDigest). */
  digest: string;
}

/** `name-version`, the model's identity in paths and run ids. */
export function modelId(manifest: Pick<BundleManifest, 'name' | 'version'>): string {
  return `${manifest.name}-${manifest.version}`;
}

/**
 * How an inference session reads the bundle's model: its input and output tensors, the column of
 * P(churn) and whether it is a probability or a logit, and the input width. Every ONNX Runtime
 * session opened for a bundle (scoring, profiling, the worker's device probe, the benches) takes
 * these from here.
 */
export function modelIoOf(manifest: Pick<BundleManifest, 'model' | 'features'>) {
  return {
    inputName: manifest.model.input.name,
    outputName: manifest.model.output.name,
    probabilityIndex: manifest.model.output.probabilityIndex,
    outputKind: manifest.model.output.kind,
    featureCount: manifest.features.length,
  };
}

/** The model file's URI, refusing a `model.file` that would leave the bundle folder. */
function modelFileUri(bundleUri: string, file: string, manifestUri: string): string {
  const segments = file.split(/[\\/]/);
  if (/^[a-z][a-z0-9+.-]*:/i.test(file) || file.startsWith('/') || segments.some((s) => s === '..' || s === '')) {
    throw new ChurnError('INVALID_BUNDLE', `${manifestUri}: model.file "${file}" must be a relative path inside the bundle folder (like "model.onnx")`, { details: { uri: manifestUri, file } });
  }
  return joinUri(bundleUri, file);
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

/**
 * Loads bundle.json and model.onnx from a folder URI, refuses a model whose sha256 differs from
 * bundle.json, and, when `expectedDigest` is given (a planned run), a bundle whose digest
 * changed since.
 */
export async function loadBundle(store: ObjectStore, bundleUri: string, expectedDigest?: string): Promise<LoadedBundle> {
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
  const modelUri = modelFileUri(uri, manifest.model.file, manifestUri);
  const modelBytes = await readOrExplain(store, modelUri, manifest.model.file);
  const actual = sha256Hex(modelBytes);
  if (actual !== manifest.model.sha256) {
    throw new ChurnError(
      'INVALID_BUNDLE',
      `checksum mismatch for ${modelUri}: bundle.json expects sha256 ${manifest.model.sha256} but the file hashes to ${actual}; the model was modified or replaced after bundling. Rebuild the bundle with \`churn bundle\` (or \`churn train\`) instead of editing it by hand`,
      { details: { uri: modelUri, expected: manifest.model.sha256, actual } },
    );
  }
  const digest = bundleDigest(json, modelBytes);
  if (expectedDigest !== undefined && digest !== expectedDigest) {
    throw new ChurnError('INVALID_BUNDLE', `bundle ${uri} changed since the run was planned (digest ${digest}, planned ${expectedDigest}); plan the run again`, {
      details: { uri, expected: expectedDigest, actual: digest },
    });
  }
  return { uri, manifest, modelBytes, digest };
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
  await store.put(modelFileUri(bundleUri, validated.model.file, joinUri(bundleUri, 'bundle.json')), modelBytes);
  await store.put(joinUri(bundleUri, 'bundle.json'), `${JSON.stringify(complete, null, 2)}\n`);
  return validated;
}
