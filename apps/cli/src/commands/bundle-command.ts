import type { Command } from 'commander';
import { ChurnError } from '@churn/errors';
import { featuresMissingBaselineProfile, parseBundleManifest, sha256Hex, writeBundle, type BundleManifestInput } from '@churn/model-bundle';
import { computeReferenceProfile } from '@churn/model-trainer';
import { createObjectStore, joinUri, type ObjectStore } from '@churn/object-store';
import { modelTreesOf } from '@churn/scoring';
import { inspectModel, signatureProblems } from '@churn/onnx-runner';
import type { CliIo } from '../cli-io';

type BundleSpec = Omit<BundleManifestInput, 'model'> & { model: Omit<BundleManifestInput['model'], 'sha256'> & { sha256?: string } };

export interface BundleOptions {
  onnx: string;
  spec: string;
  out: string;
  /** A training snapshot to compute the reference profile from, when the spec has none. */
  profileData?: string;
}

/**
 * Wraps an ONNX model trained anywhere into a bundle: the graph's input and output names,
 * element types and shapes must match the spec, and the checksum is computed here. A spec whose
 * explanation baseline (median, mean) needs a reference profile it lacks is refused, unless
 * `profileData` names the snapshot to compute one from.
 */
export async function bundleOnnxModel(store: ObjectStore, options: BundleOptions): Promise<{ uri: string; sha256: string; treeEnsemble: boolean; profiledRows?: number }> {
  const modelBytes = await store.get(options.onnx);
  let spec: BundleSpec;
  try {
    spec = JSON.parse(new TextDecoder().decode(await store.get(options.spec))) as BundleSpec;
  } catch (cause) {
    throw new ChurnError('INVALID_BUNDLE', `${options.spec} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof spec !== 'object' || spec === null || typeof spec.model !== 'object' || spec.model === null || !Array.isArray(spec.features)) {
    throw new ChurnError('INVALID_BUNDLE', `${options.spec} must be a bundle spec object with "model" and "features" (see docs/bundle-format.md)`);
  }
  const signature = await inspectModel(modelBytes);
  const problems = signatureProblems(signature, {
    inputName: spec.model.input?.name ?? '',
    outputName: spec.model.output?.name ?? '',
    featureCount: spec.features.length,
    probabilityIndex: spec.model.output?.probabilityIndex ?? 0,
  });
  if (problems.length > 0) {
    throw new ChurnError('MODEL_MISMATCH', `${options.onnx} does not match ${options.spec}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      details: { problems, signature },
    });
  }
  const { model, ...rest } = spec;
  const { sha256: _ignored, ...modelSection } = model;
  const input = { ...rest, model: { ...modelSection, file: 'model.onnx' } };
  const parsed = parseBundleManifest({ ...input, model: { ...input.model, sha256: sha256Hex(modelBytes) } }, options.spec);
  // fill: null needs a model that takes NaN (a tree ensemble); refused here, saying why.
  const trees = modelTreesOf(parsed, modelBytes);
  const missing = featuresMissingBaselineProfile(parsed);
  let profiledRows: number | undefined;
  if (missing.length > 0 && options.profileData) {
    const profiled = await computeReferenceProfile(store, { manifest: parsed, modelBytes }, { dataUri: options.profileData });
    input.reference = profiled.reference;
    profiledRows = profiled.rowsProfiled;
  } else if (missing.length > 0) {
    throw new ChurnError(
      'INVALID_BUNDLE',
      `${options.spec} explains against the reference profile's ${parsed.explain.baseline} (explain.baseline), but it has no reference profile for ${missing.length === parsed.features.length ? 'any feature' : missing.join(', ')}. Compute one from the model's training snapshot: add --profile-data <snapshot URI> here, or bundle with "explain": { "baseline": "center" } and run \`churn profile --data <snapshot URI> --model ${options.out}\` afterwards (which also enables drift monitoring)`,
      { details: { spec: options.spec, baseline: parsed.explain.baseline, missing } },
    );
  }
  const manifest = await writeBundle(store, options.out, input, modelBytes);
  return { uri: joinUri(options.out, ''), sha256: manifest.model.sha256, treeEnsemble: trees !== undefined, ...(profiledRows === undefined ? {} : { profiledRows }) };
}

export function registerBundleCommand(program: Command, io: CliIo): void {
  program
    .command('bundle')
    .description('wrap an ONNX model trained anywhere (PyTorch, scikit-learn, XGBoost) into a checked model bundle')
    .requiredOption('--onnx <file>', 'the ONNX model')
    .requiredOption('--spec <file>', 'bundle spec JSON: bundle.json without model.sha256 (docs/bundle-format.md)')
    .requiredOption('--out <uri>', 'bundle folder to write')
    .option('--profile-data <uri>', 'training snapshot to compute the reference profile from (drift, median/mean explanation baselines)')
    .action(async (options: BundleOptions) => {
      const result = await bundleOnnxModel(createObjectStore(), options);
      io.err(`wrote bundle ${result.uri} (model sha256 ${result.sha256}${result.profiledRows === undefined ? '' : `, reference profile of ${result.profiledRows} rows`}; ${result.treeEnsemble ? 'a tree ensemble: explanation method auto is TreeSHAP' : 'explanation method auto is sampling'})`);
      io.out(JSON.stringify(result));
    });
}
