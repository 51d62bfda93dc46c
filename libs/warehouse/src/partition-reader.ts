import { ChurnError, isChurnError } from '@churn/errors';
import { joinUri, normalizeUri, type ObjectStore } from '@churn/object-store';
import { parseRunManifest, type RunManifest } from './run-manifest';
import { tableLayout, type PartitionLayout } from './score-table-layout';

/** Reads and checks the manifest at `uri`: a missing, truncated or foreign one is a clear error. */
export async function readManifestAt(store: ObjectStore, uri: string): Promise<RunManifest> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(uri);
  } catch (cause) {
    if (isChurnError(cause, 'INPUT_NOT_FOUND')) {
      throw new ChurnError('CORRUPT_INPUT', `${uri} is missing although the partition has _SUCCESS; the partition is damaged: score it again`, { cause, details: { uri } });
    }
    throw cause;
  }
  return parseRunManifest(new TextDecoder().decode(bytes), uri);
}

/** Reads a committed partition's manifest, or undefined when the partition is not committed. */
export async function readCommittedManifest(store: ObjectStore, layout: PartitionLayout): Promise<RunManifest | undefined> {
  if (!(await store.head(layout.successUri))) return undefined;
  return readManifestAt(store, layout.manifestUri);
}

/** One committed partition of a score table, its parts resolved against where it is now. */
export interface CommittedPartition {
  partitionUri: string;
  asOf: string;
  model: string;
  manifest: RunManifest;
  /** Score parts (absolute URIs, resolved relative to the manifest's own folder). */
  parts: string[];
  /** Quarantine parts, under the table's quarantine root. */
  quarantineParts: string[];
  /** Held back from `latest` by the drift gate, until released. */
  held: boolean;
}

/**
 * Finds the committed partitions under a score table root: folders holding `_SUCCESS`, with the
 * parts their manifest lists (not whatever else is lying there), named relative to the
 * manifest, so a copied or moved table reads its own parts.
 */
export async function listCommittedPartitions(store: ObjectStore, scoresUri: string): Promise<CommittedPartition[]> {
  const root = normalizeUri(scoresUri).replace(/\/+$/, '');
  const table = tableLayout(root);
  const objects = await store.list(`${root}/`);
  const out: CommittedPartition[] = [];
  for (const object of objects) {
    const m = /\/as_of=(\d{4}-\d{2}-\d{2})\/model=([^/]+)\/_SUCCESS$/.exec(object.uri);
    if (!m?.[1] || !m[2]) continue;
    const layout = table.partition(m[1], decodeURIComponent(m[2]));
    const manifest = await readManifestAt(store, layout.manifestUri);
    out.push({
      partitionUri: layout.partitionUri,
      asOf: m[1],
      model: decodeURIComponent(m[2]),
      manifest,
      parts: manifest.parts.map((p) => joinUri(layout.partitionUri, p.name)),
      quarantineParts: manifest.quarantine.parts.map((p) => joinUri(layout.quarantinePartitionUri, p.name)),
      held: (await store.head(layout.heldUri)) !== undefined,
    });
  }
  return out;
}

/** The model id and as-of date a run id names (`<model>-<version>_<asOf>_<hash>`). */
export function partitionOfRunId(runId: string): { modelId: string; asOf: string } {
  const m = /^(.+)_(\d{4}-\d{2}-\d{2})_[0-9a-f]{12}$/.exec(runId);
  if (!m?.[1] || !m[2]) throw new ChurnError('INVALID_ARGUMENT', `"${runId}" is not a run id (<model>-<version>_<YYYY-MM-DD>_<hash>)`, { details: { runId } });
  return { modelId: m[1], asOf: m[2] };
}

/**
 * Releases a run the drift gate held: it becomes the latest run of its model (in
 * `scores_latest`). Refuses a run that is not the partition's committed run, or is not held.
 */
export async function releaseHeldRun(store: ObjectStore, scoresUri: string, runId: string): Promise<RunManifest> {
  const { modelId, asOf } = partitionOfRunId(runId);
  const layout = tableLayout(normalizeUri(scoresUri).replace(/\/+$/, '')).partition(asOf, modelId);
  const manifest = await readCommittedManifest(store, layout);
  if (!manifest || manifest.runId !== runId) {
    throw new ChurnError('INPUT_NOT_FOUND', `run ${runId} is not the committed run of ${layout.partitionUri}${manifest ? ` (that is ${manifest.runId})` : ''}`, { details: { runId, partition: layout.partitionUri } });
  }
  if (!(await store.head(layout.heldUri))) throw new ChurnError('INVALID_ARGUMENT', `run ${runId} is not held; nothing to release`, { details: { runId } });
  await store.delete(layout.heldUri);
  return manifest;
}
