import { ChurnError } from '@churn/errors';
import { baselineVector, parsePolicy, playersOf, resolveExplanationMethod, type DenseNetwork, type ExplainPolicy, type ModelEvaluator, type Player, type TreeEnsemble } from '@churn/explain';
import type { BundleManifest } from '@churn/model-bundle';
import { readDenseNetwork, readTreeEnsemble } from '@churn/model-trainer';
import type { RunSettings } from './run-settings';

/** The run's explanation settings, compiled for scoring: policy, method, players and baseline. */
export interface ExplainConfig {
  policy: ExplainPolicy;
  policyText: string;
  /** The method that runs (`auto` resolved against the model). */
  method: 'tree' | 'exact' | 'sampling' | 'linear';
  space: 'probability' | 'logit';
  permutations: number;
  seed: number;
  players: Player[];
  /** Model-space baseline (one row, or a background sample row-major); empty when nothing is explained. */
  baseline: Float32Array;
  /** The model as a tree ensemble, when its graph is one the tree method reads. */
  trees?: TreeEnsemble;
  /** The model as a one-hidden-layer ReLU network, when its graph is one (exact Shapley walks it). */
  network?: DenseNetwork;
}

/** The model's dense network, if its graph is a one-hidden-layer ReLU network; else undefined. */
export function modelNetworkOf(manifest: BundleManifest, modelBytes: Uint8Array): DenseNetwork | undefined {
  const read = readDenseNetwork(modelBytes, manifest.model.output, manifest.features.length);
  return 'network' in read ? read.network : undefined;
}

/**
 * The model's tree ensemble, if its graph is one, and the check that features declaring
 * `fill: null` (missing values reach the model as NaN) belong to a model that takes NaN.
 *
 * @throws ChurnError INVALID_BUNDLE for `fill: null` on a model that is not a tree ensemble.
 */
export function modelTreesOf(manifest: BundleManifest, modelBytes: Uint8Array): TreeEnsemble | undefined {
  const read = readTreeEnsemble(modelBytes, manifest.model.output, manifest.features.length);
  const trees = 'trees' in read ? read.trees : undefined;
  const nullFilled = manifest.features.filter((f) => f.fill === null).map((f) => f.id);
  if (nullFilled.length > 0 && !trees) {
    const why = 'unsupported' in read ? read.unsupported : '';
    throw new ChurnError(
      'INVALID_BUNDLE',
      `bundle ${manifest.name}-${manifest.version}: feature${nullFilled.length > 1 ? 's' : ''} ${nullFilled.join(', ')} declare "fill": null, which sends missing values to the model as NaN; only tree-ensemble models (ONNX TreeEnsembleClassifier/Regressor, whose nodes choose a direction for missing values) take NaN, and this model is not one (${why}); give ${nullFilled.length > 1 ? 'them' : 'it'} a finite fill`,
      { details: { features: nullFilled, reason: why } },
    );
  }
  return trees;
}

/** Compiles a run's resolved explanation settings against its bundle and model. */
export function explainConfigOf(manifest: BundleManifest, settings: RunSettings['explain'], trees?: TreeEnsemble, network?: DenseNetwork): ExplainConfig {
  const policy = parsePolicy(settings.policy, manifest.riskBands.map((b) => b.name));
  // The method is resolved against what the model is (a tree ensemble or not), before any shard.
  const probe: ModelEvaluator = { featureCount: manifest.features.length, evaluate: () => Promise.reject(new Error('not evaluated')), ...(trees ? { trees } : {}) };
  const method = resolveExplanationMethod(settings.method, probe).name;
  return {
    policy,
    policyText: settings.policy,
    method,
    space: settings.space,
    permutations: settings.permutations,
    seed: settings.seed,
    players: playersOf(manifest.features),
    baseline: policy.kind === 'none' ? new Float32Array(0) : baselineVector(manifest, settings.baseline),
    ...(trees ? { trees } : {}),
    ...(network ? { network } : {}),
  };
}
