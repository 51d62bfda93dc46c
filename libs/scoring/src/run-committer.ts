import { ChurnError } from '@churn/errors';
import { playersOf } from '@churn/explain';
import { computeDrift, driftHistogramsSchema, mergeDriftHistograms, type DriftReport } from '@churn/monitoring';
import type { LoadedBundle } from '@churn/model-bundle';
import type { ObjectStore } from '@churn/object-store';
import { publishCommitted, publishRun, shardOutcomeSchema, tableLayout, type PartitionLease, type PublishRecord, type RunManifest, type RunPublisher, type ShardOutcome, type ShardSource } from '@churn/warehouse';
import type { RunPlan } from './run-plan';

export interface CommitOptions {
  store: ObjectStore;
  /** The plan's bundle, loaded with the plan's digest (a changed bundle was refused). */
  bundle: LoadedBundle;
  attempt: number;
  /** The partition's lease, held by this run. */
  lease: PartitionLease;
  /** How the run executed (mode, threads...), recorded in the manifest. */
  execution?: Record<string, unknown>;
  startedAt: Date;
  /** Price per device-hour when the plan names none (the committing process's setting). */
  pricePerDeviceHour?: number;
  /**
   * Systems the committed run is published to after the Parquet commit (the PostgreSQL
   * warehouse), in order. Their failures do not undo the commit: they are recorded.
   */
  publishers?: readonly RunPublisher[];
  log?: (message: string) => void;
}

/** A committed run: its manifest, and what each publisher made of it. */
export interface CommitResult {
  manifest: RunManifest;
  published: PublishRecord[];
}

/** Parses outcomes that crossed a thread or Redis, naming the shard whose result is malformed. */
export function parseOutcomes(values: readonly unknown[]): ShardOutcome[] {
  return values.map((value, i) => {
    const parsed = shardOutcomeSchema.safeParse(value);
    if (!parsed.success) {
      throw new ChurnError('COMMIT_FAILED', `shard result ${i} is malformed (${parsed.error.issues.slice(0, 3).map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}); nothing was published`);
    }
    return parsed.data;
  });
}

/**
 * The run's drift against the bundle's reference profile, from the shards' histograms (none
 * without a profile). A shard's histograms are schema-checked: they crossed a thread or Redis.
 */
export function runDrift(plan: RunPlan, bundle: LoadedBundle, outcomes: readonly ShardOutcome[]): DriftReport | undefined {
  const reference = bundle.manifest.reference;
  if (!reference || outcomes.length === 0) return undefined;
  const histograms = outcomes.map((o, i) => {
    const parsed = driftHistogramsSchema.safeParse(o.drift);
    if (!parsed.success) throw new ChurnError('COMMIT_FAILED', `shard ${outcomes[i]!.index} returned no drift histograms although the bundle has a reference profile; nothing was published`);
    return parsed.data;
  });
  const merged = histograms.reduce((a, b) => mergeDriftHistograms(a, b));
  const read = outcomes.reduce((a, o) => a + o.rowsRead, 0);
  const quarantined = outcomes.reduce((a, o) => a + o.rowsQuarantined, 0);
  return computeDrift(reference, merged, plan.settings.drift, { quarantineRate: read > 0 ? quarantined / read : 0 });
}

/**
 * Commits a run, the same in embedded and distributed mode: every planned shard reported once,
 * with the rows its plan gave it, and the row accounting balances (every input row scored,
 * quarantined or ineligible, once); then the partition is published (warehouse/publishRun:
 * staged files verified against the outcomes, duplicates across shards quarantined, parts
 * copied into place, `_manifest.json`, `_SUCCESS`); then the run goes to each publisher
 * (warehouse/publishCommitted: a failure is recorded beside the partition and in the result,
 * never undoing the commit).
 */
export async function commitRun(plan: RunPlan, outcomes: readonly ShardOutcome[], options: CommitOptions): Promise<CommitResult> {
  const byIndex = new Map<number, ShardOutcome>();
  for (const o of outcomes) {
    if (byIndex.has(o.index)) throw new ChurnError('COMMIT_FAILED', `run ${plan.runId} has two results for shard ${o.index}; nothing was published`, { details: { shard: o.index } });
    byIndex.set(o.index, o);
  }
  const missing = plan.shards.filter((s) => !byIndex.has(s.index)).map((s) => s.index);
  if (missing.length > 0 || byIndex.size !== plan.shards.length) {
    throw new ChurnError('COMMIT_FAILED', `run ${plan.runId} has ${byIndex.size} of ${plan.shards.length} shard results (missing: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}); nothing was published`, {
      details: { missing },
    });
  }
  for (const shard of plan.shards) {
    const o = byIndex.get(shard.index)!;
    if (o.rowsRead !== shard.rows || o.file !== shard.file) {
      throw new ChurnError('COMMIT_FAILED', `shard ${shard.index} reported ${o.rowsRead} rows of ${o.file}, but its plan has ${shard.rows} rows of ${shard.file}; nothing was published`, {
        details: { shard: shard.index },
      });
    }
    if (o.rowsScored + o.rowsQuarantined + o.rowsIneligible !== o.rowsRead) {
      throw new ChurnError('COMMIT_FAILED', `row accounting of shard ${shard.index} does not balance (read ${o.rowsRead}, scored ${o.rowsScored}, quarantined ${o.rowsQuarantined}, ineligible ${o.rowsIneligible}); nothing was published`);
    }
  }
  const { manifest: bundleManifest } = options.bundle;
  // The drift gate: `fail` publishes nothing, `hold` publishes but keeps the run from `latest`.
  const drift = runDrift(plan, options.bundle, outcomes);
  const { onDrift } = plan.settings.drift;
  if (drift?.status === 'alert' && onDrift === 'fail') {
    throw new ChurnError('DRIFT_FAILED', `run ${plan.runId} drifted from the training profile (alerting: ${drift.alerts.join(', ')}); with the fail gate nothing was committed`, {
      details: { alerts: drift.alerts, warnings: drift.warnings },
      settings: ['onDrift'],
    });
  }
  const held = drift?.status === 'alert' && onDrift === 'hold';
  const sources = new Map<number, ShardSource>(plan.shards.map((s) => [s.index, { index: s.index, file: s.file, fileSize: s.fileSize, rowGroups: s.rowGroups, firstRow: s.firstRow }]));
  const manifest = await publishRun({
    store: options.store,
    table: tableLayout(plan.output),
    run: {
      runId: plan.runId,
      attempt: options.attempt,
      asOf: plan.partition.asOf,
      modelName: plan.model.name,
      modelVersion: plan.model.version,
      modelDigest: plan.model.digest,
      scoredAt: new Date(plan.plannedAt),
    },
    manifest: {
      model: plan.model,
      input: { partition: plan.partition.uri, files: plan.partition.files.map((f) => ({ ...f, rows: f.rows ?? 0 })) },
      settings: plan.settings,
      execution: { ...options.execution, device: plan.execution.device, ...(plan.execution.batchRows ? { batchRows: plan.execution.batchRows } : {}) },
      startedAt: options.startedAt.toISOString(),
      device: [...new Set(outcomes.map((o) => o.device))].sort().join(',') || 'none',
      ...(drift ? { drift } : {}),
      gate: { onDrift, held },
    },
    outcomes: [...byIndex.values()],
    sources,
    idColumn: bundleManifest.inputContract.idColumn,
    bandNames: bundleManifest.riskBands.map((b) => b.name),
    players: playersOf(bundleManifest.features).map((p) => p.id),
    segments: bundleManifest.segments,
    lease: options.lease,
    replace: plan.execution.replace,
    ...((plan.execution.pricePerDeviceHour ?? options.pricePerDeviceHour) === undefined ? {} : { pricePerDeviceHour: plan.execution.pricePerDeviceHour ?? options.pricePerDeviceHour }),
    ...(options.log ? { log: options.log } : {}),
  });
  const committed = { store: options.store, scoresUri: tableLayout(plan.output).root, manifest, held: manifest.gate?.held === true };
  const published = await publishCommitted(committed, options.publishers ?? [], options.log);
  return { manifest, published };
}
