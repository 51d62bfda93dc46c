import { z } from 'zod';
import { compileFeaturePipeline, type FeaturePipeline } from '@churn/feature-transforms';
import { modelIoOf, type LoadedBundle } from '@churn/model-bundle';
import type { ObjectStore } from '@churn/object-store';
import { DEVICES, OnnxScorer, type ResolvedDevice } from '@churn/onnx-runner';
import { tableLayout, type AttemptStaging, type RunIdentity } from '@churn/warehouse';
import { explainConfigOf, modelNetworkOf, modelTreesOf, type ExplainConfig } from './explain-config';
import type { RunPlan } from './run-plan';
import { runSettingsSchema } from './run-settings';

/**
 * What a shard needs of its run, wherever it is scored (this thread, a worker thread, another
 * host): identity, output, settings and device. Derived from the plan; crosses threads.
 */
export const shardRunSchema = z
  .object({
    runId: z.string(),
    attempt: z.number().int().min(1),
    asOf: z.string(),
    output: z.string(),
    model: z.object({ name: z.string(), version: z.string(), digest: z.string() }).strict(),
    settings: runSettingsSchema,
    device: z.enum(DEVICES),
    batchRows: z.number().int().positive().optional(),
    /** Shards scored at once on this process's device (its threads); divides device time. */
    deviceSlots: z.number().int().positive().optional(),
    scoredAt: z.string(),
  })
  .strict();
export type ShardRun = z.infer<typeof shardRunSchema>;

/** What a shard needs of its plan; `deviceSlots`: the shards the process scores at once on its device. */
export function shardRunOf(plan: Pick<RunPlan, 'runId' | 'partition' | 'output' | 'model' | 'settings' | 'execution' | 'plannedAt'>, attempt: number, deviceSlots?: number): ShardRun {
  return {
    runId: plan.runId,
    attempt,
    asOf: plan.partition.asOf,
    output: plan.output,
    model: { name: plan.model.name, version: plan.model.version, digest: plan.model.digest },
    settings: plan.settings,
    device: plan.execution.device,
    ...(plan.execution.batchRows ? { batchRows: plan.execution.batchRows } : {}),
    ...(deviceSlots ? { deviceSlots } : {}),
    scoredAt: plan.plannedAt,
  };
}

/** Everything `scoreShard()` needs that is the same for every shard of a run. */
export interface ScoringContext {
  store: ObjectStore;
  bundle: LoadedBundle;
  pipeline: FeaturePipeline;
  scorer: OnnxScorer;
  run: RunIdentity;
  attempt: number;
  /** Where this attempt's shards write before the commit. */
  staging: AttemptStaging;
  /** Input columns a shard decodes: the contract's, the features' and the eligibility column. */
  columns: string[];
  maxBadRowFraction: number;
  device: ResolvedDevice;
  /** Shards sharing the device at once in this process (a shard's device time is its wall time over this). */
  deviceSlots: number;
  explain: ExplainConfig;
  bandNames: string[];
}

export interface ScoringContextOptions {
  store: ObjectStore;
  bundle: LoadedBundle;
  run: ShardRun;
  /** ONNX Runtime threads per session (default: all cores). */
  intraOpThreads?: number;
  log?: (message: string) => void;
}

/** Compiles the feature spec and opens the ONNX session (checked against the bundle) once. */
export async function createScoringContext(options: ScoringContextOptions): Promise<ScoringContext> {
  const { manifest } = options.bundle;
  const { run } = options;
  const pipeline = compileFeaturePipeline(manifest.features);
  const { modelBytes } = options.bundle;
  const trees = modelTreesOf(manifest, modelBytes);
  // A tree ensemble is not a network, and a run that explains nothing has no coalitions to walk.
  const network = trees || run.settings.explain.policy === 'none' ? undefined : modelNetworkOf(manifest, modelBytes);
  const explain = explainConfigOf(manifest, run.settings.explain, trees, network);
  const scorer = await OnnxScorer.create({
    modelBytes: options.bundle.modelBytes,
    ...modelIoOf(manifest),
    device: run.device,
    ...(run.batchRows ? { batchRows: run.batchRows } : {}),
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
    run: { runId: run.runId, asOf: run.asOf, modelName: run.model.name, modelVersion: run.model.version, modelDigest: run.model.digest, scoredAt: new Date(run.scoredAt) },
    attempt: run.attempt,
    staging: tableLayout(run.output).staging(run.runId).attempt(run.attempt),
    columns,
    maxBadRowFraction: run.settings.maxBadRowFraction,
    device: scorer.device,
    deviceSlots: run.deviceSlots ?? 1,
    explain,
    bandNames: manifest.riskBands.map((b) => b.name),
  };
}
