import { driftReportSchema, type DriftReport } from '@churn/monitoring';
import { normalizeUri, type ObjectStore } from '@churn/object-store';
import { listCommittedPartitions, type RowCounts, type RunManifest } from '@churn/warehouse';

/** A committed run as reports see it. */
export interface CommittedRun extends RowCounts {
  runId: string;
  asOf: string;
  /** `name-version`. */
  model: string;
  modelName: string;
  modelVersion: string;
  /** The bundle the run scored with, when the manifest records it. */
  bundleUri?: string;
  partitionUri: string;
  device?: string;
  startedAt: string;
  committedAt: string;
  /** Rows read per second, start to commit. */
  rowsPerSecond: number;
  quarantineReasons: Record<string, number>;
  /** Band name -> rows, in the bundle's band order. */
  bandCounts: Record<string, number>;
  /** 20 equal bins over [0, 1], as shards count them. */
  scoreHistogram?: number[];
  /** Absent when the run computed no drift (or wrote a drift section this version cannot read). */
  drift?: DriftReport;
}

/** A committed run from its manifest (already schema-checked by the warehouse reader). */
function toRun(partitionUri: string, m: RunManifest & { drift?: unknown }): CommittedRun {
  const seconds = (Date.parse(m.committedAt) - Date.parse(m.startedAt)) / 1000;
  const drift = m.drift === undefined ? undefined : driftReportSchema.safeParse(m.drift);
  return {
    runId: m.runId,
    asOf: m.asOf,
    model: `${m.model.name}-${m.model.version}`,
    modelName: m.model.name,
    modelVersion: m.model.version,
    bundleUri: m.model.bundle,
    partitionUri,
    device: m.device,
    startedAt: m.startedAt,
    committedAt: m.committedAt,
    rowsRead: m.rowsRead,
    rowsScored: m.rowsScored,
    rowsQuarantined: m.rowsQuarantined,
    rowsIneligible: m.rowsIneligible,
    rowsPerSecond: seconds > 0 ? Math.round(m.rowsRead / seconds) : 0,
    quarantineReasons: m.quarantineReasons,
    bandCounts: m.bandCounts,
    scoreHistogram: m.score.histogram,
    ...(drift?.success ? { drift: drift.data } : {}),
  };
}

/**
 * Committed runs under a score table root, oldest as-of first (then model), optionally of one
 * model (`name-version`). A damaged manifest is an error naming it (warehouse reader).
 */
export async function listCommittedRuns(store: ObjectStore, scoresUri: string, options: { model?: string } = {}): Promise<CommittedRun[]> {
  const root = normalizeUri(scoresUri).replace(/\/+$/, '');
  const partitions = await listCommittedPartitions(store, root);
  const runs: CommittedRun[] = [];
  for (const p of partitions) {
    if (options.model && p.model !== options.model) continue;
    runs.push(toRun(p.partitionUri, p.manifest));
  }
  return runs.sort((a, b) => a.asOf.localeCompare(b.asOf) || a.model.localeCompare(b.model));
}

/** The score parts of a committed partition, as its manifest lists them. */
export async function committedParts(store: ObjectStore, scoresUri: string, partitionUri: string): Promise<string[]> {
  const root = normalizeUri(scoresUri).replace(/\/+$/, '');
  const partition = (await listCommittedPartitions(store, root)).find((p) => p.partitionUri === partitionUri);
  return partition?.parts ?? [];
}
