import { ChurnError } from '@churn/errors';
import {
  eligibilitySchema,
  featureSchema,
  inputContractSchema,
  writeBundle,
  type BundleManifest,
  type FeatureSpec,
} from '@churn/model-bundle';
import { normalizeUri, type ObjectStore } from '@churn/object-store';
import { OnnxScorer } from '@churn/onnx-runner';
import { SYNTH_COLUMNS, trueChurnProbability } from '@churn/synth-data';
import { churnModelSpec, type ModelSpec } from './churn-feature-spec';
import { countNulls, fitStandardization, nullProbeFeatures, withoutStandardization } from './feature-standardization';
import { treeMargin, treeProbability } from '@churn/explain';
import { fitGbdt, type GbdtOptions } from './gbdt-trainer';
import { fitModel, type FitOptions } from './gradient-trainer';
import { predictProbabilities, type ModelWeights } from './model-weights';
import { exportLogisticOnnx, exportMlpOnnx, exportTreeEnsembleOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './onnx-export';
import { buildReferenceProfile } from './reference-profile';
import { rocAuc } from '@churn/monitoring';
import { featureMatrix, loadTrainingData, type RowSet } from './training-data';

export interface TrainBundleOptions {
  /** Dataset root (`<root>/as_of=YYYY-MM-DD/*.parquet`) or a partition folder. */
  dataUri: string;
  /** Bundle folder to write (model.onnx + bundle.json). */
  outUri: string;
  /** Default 'mlp'; 'gbdt' trains gradient-boosted trees (exported as TreeEnsembleRegressor + Sigmoid). */
  kind?: TrainKind;
  /** Drives the split, sampling, init and batch order. Default 42. */
  seed?: number;
  /** Partition to train on; default the latest. */
  asOf?: string;
  /** Default 'churn-mlp' or 'churn-logistic'. */
  name?: string;
  /** Default '1.0.0'. */
  version?: string;
  /** Cap on rows read, sampled deterministically (seeded) across all files. */
  maxRows?: number;
  /** Feature spec, contract, eligibility, bands and explain settings; default `churnModelSpec()`. */
  spec?: ModelSpec;
  /** Label column (0/1 or boolean). Default 'churned_within_30d'. */
  labelColumn?: string;
  /** Optimiser overrides (hidden units, learning rate, epochs, ...); defaults suit ~10k-1M rows. */
  fit?: Omit<FitOptions, 'kind' | 'seed' | 'log'>;
  /** Boosting overrides for kind gbdt (trees, depth, learning rate, ...). */
  gbdt?: Omit<GbdtOptions, 'seed' | 'log'>;
  /** kind gbdt: also fit the MLP on the same split and report its held-out AUC beside (default true). */
  compareMlp?: boolean;
  log?: (message: string) => void;
}

export interface TrainResult {
  manifest: BundleManifest;
  bundleUri: string;
  heldOutAuc: number;
  /** AUC of the generator's true probabilities on the same held-out rows (synthetic data only). */
  trueAuc?: number;
  /** kind gbdt with compareMlp: the MLP's held-out AUC on the same rows. */
  mlpAuc?: number;
  trainRows: number;
  heldOutRows: number;
  seconds: number;
}

export const TRAIN_KINDS = ['mlp', 'logistic', 'gbdt'] as const;
export type TrainKind = (typeof TRAIN_KINDS)[number];

/** Share of customers (by seeded hash of the id) kept out of training. */
const HELD_OUT_FRACTION = 0.2;
/** ONNX Runtime and the TypeScript forward pass must agree this closely, or the export is broken. */
const EXPORT_TOLERANCE = 1e-4;
/** Trees: ONNX Runtime must score the exported ensemble as the TypeScript model does, to float32 summation. */
const TREE_EXPORT_TOLERANCE = 1e-6;

function describe(weights: ModelWeights, featureCount: number): string {
  return weights.kind === 'mlp'
    ? `MLP: ${featureCount} standardised features -> ${weights.hidden} ReLU units -> sigmoid P(churn within 30 days)`
    : `logistic regression on ${featureCount} standardised features -> P(churn within 30 days)`;
}

async function scoreWithOnnx(modelBytes: Uint8Array, features: Float32Array, rows: number, width: number): Promise<Float32Array> {
  const scorer = await OnnxScorer.create({
    modelBytes,
    inputName: ONNX_INPUT_NAME,
    outputName: ONNX_OUTPUT_NAME,
    probabilityIndex: 0,
    outputKind: 'probability',
    featureCount: width,
    device: 'cpu',
  });
  try {
    return await scorer.score(features, rows);
  } finally {
    await scorer.release();
  }
}

function requireRows(set: RowSet, what: string, dataUri: string): void {
  const positives = set.labels.reduce((sum, y) => sum + y, 0);
  if (set.count < 10 || positives === 0 || positives === set.count) {
    throw new ChurnError(
      'INVALID_ARGUMENT',
      `the ${what} split of ${dataUri} has ${set.count} usable rows with ${positives} positive labels; training needs both outcomes on both sides of the split (use more data or a larger --max-rows)`,
      { details: { split: what, rows: set.count, positives } },
    );
  }
}

/**
 * Trains a churn model on a dataset partition and writes a complete bundle: reads and validates
 * the data with the scoring kernels, standardises on the training split, fits the model, exports
 * it to ONNX, scores the held-out customers through ONNX Runtime (the AUC reported is the exported
 * model's) and stores the reference profile and training record in bundle.json.
 */
export async function trainBundle(store: ObjectStore, options: TrainBundleOptions): Promise<TrainResult> {
  const started = performance.now();
  const kind = options.kind ?? 'mlp';
  const seed = options.seed ?? 42;
  const log = options.log;
  const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
  const spec = options.spec ?? churnModelSpec();
  const features: FeatureSpec[] = spec.features.map((f) => featureSchema.parse(f));
  const contract = inputContractSchema.parse(spec.inputContract);
  const eligibility = spec.eligibility ? eligibilitySchema.parse(spec.eligibility) : undefined;
  const width = features.length;

  const data = await loadTrainingData(store, {
    dataUri: options.dataUri,
    ...(options.asOf ? { asOf: options.asOf } : {}),
    features,
    contract,
    ...(eligibility ? { eligibility } : {}),
    labelColumn: options.labelColumn ?? 'churned_within_30d',
    seed,
    heldOutFraction: HELD_OUT_FRACTION,
    ...(options.maxRows !== undefined ? { maxRows: options.maxRows } : {}),
    truth: { columns: SYNTH_COLUMNS, probability: trueChurnProbability },
    ...(log ? { log } : {}),
  });
  const { train, heldOut, counts } = data;
  log?.(
    `[${elapsed()}s] ${counts.read} rows read from ${data.partitionUri}: ${counts.badRows} break the contract, ${counts.ineligible} not eligible, ${counts.unlabelled} unlabelled; ${train.count} train, ${heldOut.count} held out`,
  );
  requireRows(train, 'training', options.dataUri);
  requireRows(heldOut, 'held-out', options.dataUri);

  // Standardisation comes from the training split's raw values; then both matrices are rebuilt
  // with the final spec, so the model is fitted on exactly what scoring will compute.
  const rawFeatures = withoutStandardization(features);
  const finalFeatures = fitStandardization(rawFeatures, featureMatrix(train, rawFeatures), train.count);
  const trainX = featureMatrix(train, finalFeatures);
  const heldOutX = featureMatrix(heldOut, finalFeatures);
  log?.(`[${elapsed()}s] features computed (${width} per row)`);

  const featureIds = finalFeatures.map((f) => f.id);
  const trainMatrix = { x: trainX, y: train.labels, rows: train.count, features: width };
  let modelBytes: Uint8Array;
  let reference: Float64Array | Float32Array;
  let description: string;
  let tolerance = EXPORT_TOLERANCE;
  if (kind === 'gbdt') {
    const fit = fitGbdt(trainMatrix, { ...options.gbdt, seed });
    log?.(`[${elapsed()}s] gbdt trained: ${fit.bestTrees} trees kept of ${fit.treesGrown} grown (early stopping on ${fit.validationRows} validation rows)`);
    const trees = fit.trees;
    description = `gradient-boosted trees: ${trees.roots.length} trees of depth <= ${options.gbdt?.depth ?? 5} on ${width} features -> sigmoid P(churn within 30 days)`;
    modelBytes = exportTreeEnsembleOnnx(trees, { featureIds, description });
    reference = Float64Array.from({ length: heldOut.count }, (_, r) => treeProbability(trees, treeMargin(trees, heldOutX, r * width)));
    tolerance = TREE_EXPORT_TOLERANCE;
  } else {
    const fit = fitModel(trainMatrix, { ...options.fit, kind, seed, ...(log ? { log } : {}) });
    log?.(`[${elapsed()}s] ${kind} trained: best epoch ${fit.bestEpoch} of ${fit.epochs}`);
    description = describe(fit.weights, width);
    modelBytes = fit.weights.kind === 'mlp' ? exportMlpOnnx(fit.weights, { featureIds, description }) : exportLogisticOnnx(fit.weights, { featureIds, description });
    reference = predictProbabilities(fit.weights, heldOutX, heldOut.count);
  }
  const scores = await scoreWithOnnx(modelBytes, heldOutX, heldOut.count, width);
  let worst = 0;
  for (let i = 0; i < scores.length; i++) worst = Math.max(worst, Math.abs(scores[i]! - reference[i]!));
  if (!(worst <= tolerance)) {
    throw new ChurnError('MODEL_MISMATCH', `the exported ONNX model disagrees with the trained model by up to ${worst} on held-out rows; the export is broken`);
  }
  let mlpAuc: number | undefined;
  if (kind === 'gbdt' && options.compareMlp !== false) {
    const mlp = fitModel(trainMatrix, { ...options.fit, kind: 'mlp', seed });
    mlpAuc = rocAuc(predictProbabilities(mlp.weights, heldOutX, heldOut.count), heldOut.labels);
    log?.(`[${elapsed()}s] MLP fitted on the same split for comparison: held-out AUC ${mlpAuc.toFixed(4)}`);
  }

  const heldOutAuc = rocAuc(scores, heldOut.labels);
  const trueAuc = heldOut.truth ? rocAuc(heldOut.truth, heldOut.labels) : undefined;
  log?.(`[${elapsed()}s] held-out AUC ${heldOutAuc.toFixed(4)}${trueAuc === undefined ? '' : ` (true probabilities: ${trueAuc.toFixed(4)})`}`);

  const profile = buildReferenceProfile({
    featureIds,
    raw: featureMatrix(heldOut, rawFeatures),
    nullCounts: countNulls(featureMatrix(heldOut, nullProbeFeatures(features)), heldOut.count, width),
    scores,
    rows: heldOut.count,
    quarantineRate: counts.read > 0 ? counts.badRows / counts.read : 0,
  });

  const bundleUri = normalizeUri(options.outUri);
  const manifest = await writeBundle(
    store,
    bundleUri,
    {
      formatVersion: 1,
      name: options.name ?? `churn-${kind}`,
      version: options.version ?? '1.0.0',
      description: `${description}; trained on ${data.partitionUri}`,
      model: { file: 'model.onnx', input: { name: ONNX_INPUT_NAME }, output: { name: ONNX_OUTPUT_NAME, probabilityIndex: 0, kind: 'probability' } },
      features: finalFeatures,
      inputContract: spec.inputContract,
      ...(spec.eligibility ? { eligibility: spec.eligibility } : {}),
      ...(spec.segments ? { segments: spec.segments } : {}),
      riskBands: spec.riskBands,
      ...(spec.explain ? { explain: spec.explain } : {}),
      reference: profile,
      training: {
        kind,
        trainedAt: new Date().toISOString(),
        dataset: data.partitionUri,
        seed,
        trainRows: train.count,
        heldOutRows: heldOut.count,
        heldOutAuc,
        ...(trueAuc === undefined ? {} : { trueAuc }),
      },
    },
    modelBytes,
  );
  const seconds = (performance.now() - started) / 1000;
  log?.(`[${seconds.toFixed(1)}s] bundle written to ${bundleUri}`);
  return { manifest, bundleUri, heldOutAuc, ...(trueAuc === undefined ? {} : { trueAuc }), ...(mlpAuc === undefined ? {} : { mlpAuc }), trainRows: train.count, heldOutRows: heldOut.count, seconds };
}
