import type { Command } from 'commander';
import { ChurnError } from '@churn/errors';
import { writeBundle, type BundleManifestInput } from '@churn/model-bundle';
import { createObjectStore, joinUri, type ObjectStore } from '@churn/object-store';
import { inspectModel, signatureProblems } from '@churn/onnx-runner';
import type { CliIo } from '../cli-io';

type BundleSpec = Omit<BundleManifestInput, 'model'> & { model: Omit<BundleManifestInput['model'], 'sha256'> & { sha256?: string } };

/**
 * Wraps an ONNX model trained anywhere into a bundle: the graph's input and output names,
 * element types and shapes must match the spec, and the checksum is computed here.
 */
export async function bundleOnnxModel(store: ObjectStore, options: { onnx: string; spec: string; out: string }): Promise<{ uri: string; sha256: string }> {
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
  const manifest = await writeBundle(store, options.out, { ...rest, model: { ...modelSection, file: 'model.onnx' } }, modelBytes);
  return { uri: joinUri(options.out, ''), sha256: manifest.model.sha256 };
}

export function registerBundleCommand(program: Command, io: CliIo): void {
  program
    .command('bundle')
    .description('wrap an ONNX model trained anywhere (PyTorch, scikit-learn, XGBoost) into a checked model bundle')
    .requiredOption('--onnx <file>', 'the ONNX model')
    .requiredOption('--spec <file>', 'bundle spec JSON: bundle.json without model.sha256 (docs/bundle-format.md)')
    .requiredOption('--out <uri>', 'bundle folder to write')
    .action(async (options: { onnx: string; spec: string; out: string }) => {
      const result = await bundleOnnxModel(createObjectStore(), options);
      io.err(`wrote bundle ${result.uri} (model sha256 ${result.sha256})`);
      io.out(JSON.stringify(result));
    });
}
