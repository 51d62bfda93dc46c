import { ChurnError } from '@churn/errors';
import { compileFeaturePipeline, type FeaturePipeline } from '@churn/feature-transforms';
import type { LoadedBundle } from '@churn/model-bundle';
import type { ObjectStore } from '@churn/object-store';
import { OnnxScorer, type ResolvedDevice } from '@churn/onnx-runner';
import type { PartitionLayout, RunIdentity } from '@churn/warehouse';
import { resolveExplainConfig, type ExplainConfig } from './explain-config';
import type { ScoringSettings } from './scoring-settings';

/** Everything `scoreShard()` needs that is the same for every shard of a run. */
export interface ScoringContext {
  store: ObjectStore;
  bundle: LoadedBundle;
  pipeline: FeaturePipeline;
  scorer: OnnxScorer;
  run: RunIdentity;
  layout: PartitionLayout;
  /** Input columns a shard decodes: the contract's, the features' and the eligibility column. */
  columns: string[];
  maxBadRowFraction: number;
  device: ResolvedDevice;
  explain: ExplainConfig;
}

export interface ScoringContextOptions {
  store: ObjectStore;
  bundle: LoadedBundle;
  run: RunIdentity;
  layout: PartitionLayout;
  settings: ScoringSettings;
  /** ONNX Runtime threads per session (default: all cores). */
  intraOpThreads?: number;
  log?: (message: string) => void;
}

/** Compiles the feature spec and opens the ONNX session (checked against the bundle) once. */
export async function createScoringContext(options: ScoringContextOptions): Promise<ScoringContext> {
  const { manifest } = options.bundle;
  const pipeline = compileFeaturePipeline(manifest.features);
  const { settings } = options;
  const maxBadRowFraction = settings.maxBadRowFraction ?? manifest.inputContract.maxBadRowFraction;
  const explain = resolveExplainConfig(manifest, settings.explain);
  if (!(maxBadRowFraction >= 0 && maxBadRowFraction <= 1)) {
    throw new ChurnError('INVALID_ARGUMENT', `max bad-row fraction must be between 0 and 1, got ${maxBadRowFraction}`);
  }
  const scorer = await OnnxScorer.create({
    modelBytes: options.bundle.modelBytes,
    inputName: manifest.model.input.name,
    outputName: manifest.model.output.name,
    probabilityIndex: manifest.model.output.probabilityIndex,
    outputKind: manifest.model.output.kind,
    featureCount: manifest.features.length,
    device: settings.device,
    ...(settings.batchRows ? { batchRows: settings.batchRows } : {}),
    ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const columns = [
    ...new Set([
      ...manifest.inputContract.columns.map((c) => c.name),
      ...pipeline.sourceColumns,
      ...(manifest.eligibility ? [manifest.eligibility.column] : []),
    ]),
  ];
  return {
    store: options.store,
    bundle: options.bundle,
    pipeline,
    scorer,
    run: options.run,
    layout: options.layout,
    columns,
    maxBadRowFraction,
    device: scorer.device,
    explain,
  };
}
