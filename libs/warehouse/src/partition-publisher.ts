import { readParquetFooter } from '@churn/arrow-io';
import { ChurnError, isChurnError } from '@churn/errors';
import { baseName, joinUri, type ObjectStore } from '@churn/object-store';
import { resolveCrossShardDuplicates, type ShardSource } from './cross-shard-duplicates';
import type { PartitionLease } from './partition-lease';
import { readManifestAt } from './partition-reader';
import { mergeOutcomes, MANIFEST_FORMAT_VERSION, runCostOf, runManifestSchema, type RunManifest, type ShardOutcome } from './run-manifest';
import { isInside, type AttemptStaging, type PartitionLayout, type TableLayout } from './score-table-layout';
import type { RunIdentity } from './score-table-writer';

/** The manifest fields that scoring knows before the commit. */
export type ManifestBase = Pick<RunManifest, 'model' | 'input' | 'settings' | 'execution' | 'startedAt' | 'device' | 'drift' | 'gate'>;

export interface PublishRequest {
  store: ObjectStore;
  table: TableLayout;
  run: RunIdentity & { attempt: number };
  manifest: ManifestBase;
  outcomes: readonly ShardOutcome[];
  /** Every planned shard's input location, by shard index. */
  sources: ReadonlyMap<number, ShardSource>;
  idColumn: string;
  bandNames: readonly string[];
  players: readonly string[];
  /** The bundle's segment columns. */
  segments?: readonly string[];
  /** The partition's lease, held by this run. */
  lease: PartitionLease;
  /** Replace a partition committed by a different bundle digest under the same name and version. */
  replace?: boolean;
  /** Price of one device-hour: the manifest then records the run's cost. */
  pricePerDeviceHour?: number;
  log?: (message: string) => void;
}

/** A short tag of a run attempt for published file names: the run id's hash and the attempt. */
export function runTag(runId: string, attempt: number): string {
  const hash = /_([0-9a-f]{8,})$/.exec(runId)?.[1]?.slice(0, 12) ?? runId.replace(/[^A-Za-z0-9]/g, '').slice(-12);
  return `${hash}-a${attempt}`;
}

async function footerRows(store: ObjectStore, uri: string): Promise<number | undefined> {
  const head = await store.head(uri);
  if (!head) return undefined;
  return (await readParquetFooter({ store, uri, size: head.size })).numRows;
}

function mismatch(shard: number, what: string, uri: string, reported: number, found: number | undefined): ChurnError {
  return new ChurnError(
    'COMMIT_FAILED',
    found === undefined
      ? `shard ${shard} reported ${reported} ${what} but ${uri} does not exist; nothing was published: score the run again`
      : `shard ${shard} reported ${reported} ${what} but ${uri} holds ${found}; nothing was published: score the run again`,
    { details: { shard, uri, reported, found: found ?? null } },
  );
}

/** Checks a shard's staged files hold what its outcome says (the files are the truth). */
async function verifyStaged(store: ObjectStore, staging: AttemptStaging, o: ShardOutcome): Promise<void> {
  const part = staging.partUri(o.index);
  const quarantine = staging.quarantineUri(o.index);
  const [partRows, quarantineRows] = await Promise.all([footerRows(store, part), footerRows(store, quarantine)]);
  if (partRows !== o.rowsScored) throw mismatch(o.index, 'scored rows', part, o.rowsScored, partRows);
  if (quarantineRows !== o.rowsQuarantined) throw mismatch(o.index, 'quarantined rows', quarantine, o.rowsQuarantined, quarantineRows);
  if (o.rowsScored + o.rowsQuarantined + o.rowsIneligible !== o.rowsRead) {
    throw new ChurnError('COMMIT_FAILED', `shard ${o.index} does not balance (read ${o.rowsRead}, scored ${o.rowsScored}, quarantined ${o.rowsQuarantined}, ineligible ${o.rowsIneligible}); nothing was published`, { details: { shard: o.index } });
  }
}

/** Removes every object under a prefix (the run's staging, or stale parts). */
async function removeAll(store: ObjectStore, uris: readonly string[]): Promise<void> {
  for (let i = 0; i < uris.length; i += 16) await Promise.all(uris.slice(i, i + 16).map((u) => store.delete(u)));
}

async function currentManifest(store: ObjectStore, layout: PartitionLayout): Promise<RunManifest | undefined> {
  if (!(await store.head(layout.successUri))) return undefined;
  try {
    return await readManifestAt(store, layout.manifestUri);
  } catch (error) {
    // A damaged previous manifest must not block a new version: it is replaced.
    if (isChurnError(error, 'CORRUPT_INPUT') || isChurnError(error, 'INPUT_NOT_FOUND')) return undefined;
    throw error;
  }
}

/**
 * Publishes a run exactly once. Everything it reads and writes is derived from the run's own
 * identity: its staging prefix (`_temporary/<runId>/`) and its target partition; locations in
 * payloads are never trusted, and counts are taken from the files. Steps: verify every staged
 * part against its outcome; quarantine customer ids found in more than one shard; refuse to
 * replace another bundle's partition unless asked; while holding the lease, copy the parts
 * into place under names unique to this attempt (the previous version stays complete and
 * readable), write `_manifest.json` (relative part names) and `_SUCCESS`, then remove the
 * previous version's parts and the staging. A retried commit of a committed attempt returns
 * the committed manifest.
 */
export async function publishRun(request: PublishRequest): Promise<RunManifest> {
  const { store, table, run } = request;
  const layout = table.partition(run.asOf, `${run.modelName}-${run.modelVersion}`);
  const staging = table.staging(run.runId);
  const previous = await currentManifest(store, layout);
  if (previous && previous.runId === run.runId && previous.attempt === run.attempt) {
    await removeAll(store, (await store.list(`${staging.runUri}/`)).map((o) => o.uri));
    return previous;
  }
  const stagingOf = (o: ShardOutcome) => staging.attempt(o.attempt);
  for (const o of request.outcomes) {
    if (o.attempt > run.attempt || !request.sources.has(o.index)) {
      throw new ChurnError('COMMIT_FAILED', `shard outcome ${o.index} (attempt ${o.attempt}) is not a shard of run ${run.runId} attempt ${run.attempt}; nothing was published`, { details: { shard: o.index } });
    }
  }
  for (let i = 0; i < request.outcomes.length; i += 8) await Promise.all(request.outcomes.slice(i, i + 8).map((o) => verifyStaged(store, stagingOf(o), o)));

  const commitStaging = staging.attempt(run.attempt);
  const dedup = await resolveCrossShardDuplicates(request.outcomes, {
    store,
    run,
    idColumn: request.idColumn,
    bandNames: request.bandNames,
    players: request.players,
    segments: request.segments ?? [],
    stagingOf,
    commitStaging,
    sources: request.sources,
  });
  if (dedup.ids > 0) request.log?.(`run ${run.runId}: ${dedup.ids} customer id(s) found in more than one shard; all ${dedup.rows} copies quarantined as duplicate_id`);

  let replaced: RunManifest['replaced'];
  if (previous && previous.model.digest !== run.modelDigest) {
    if (!request.replace) {
      throw new ChurnError(
        'PARTITION_CONFLICT',
        `${layout.partitionUri} is committed by run ${previous.runId} with bundle digest ${previous.model.digest}, but this run's bundle ${run.modelName}-${run.modelVersion} has digest ${run.modelDigest}: two different bundles share a name and version. Give the new bundle a new version, or replace the partition deliberately`,
        { details: { partition: layout.partitionUri, committedDigest: previous.model.digest, digest: run.modelDigest, committedRun: previous.runId }, settings: ['replace'] },
      );
    }
    replaced = { runId: previous.runId, attempt: previous.attempt, digest: previous.model.digest, committedAt: previous.committedAt };
  } else if (previous) {
    replaced = { runId: previous.runId, attempt: previous.attempt, digest: previous.model.digest, committedAt: previous.committedAt };
  }

  const tag = runTag(run.runId, run.attempt);
  const outcomes = [...dedup.outcomes].sort((a, b) => a.index - b.index);
  const parts = outcomes.map((o) => ({
    from: dedup.rewritten.get(o.index)?.uri ?? stagingOf(o).partUri(o.index),
    name: layout.partName(o.index, tag),
    rows: o.rowsScored,
    shard: o.index,
  }));
  const quarantineParts: { from: string; name: string; rows: number; shard?: number }[] = [
    ...request.outcomes.map((o) => ({ from: stagingOf(o).quarantineUri(o.index), name: layout.quarantinePartName(o.index, tag), rows: o.rowsQuarantined, shard: o.index })),
    ...(dedup.quarantine ? [{ from: dedup.quarantine.uri, name: layout.quarantinePartName('duplicates', tag), rows: dedup.quarantine.rows }] : []),
  ];
  for (const p of [...parts, ...quarantineParts]) {
    if (!isInside(p.from, staging.runUri)) throw new ChurnError('COMMIT_FAILED', `${p.from} is outside the staging of run ${run.runId}; nothing was published`);
  }

  const totals = mergeOutcomes(outcomes);
  const manifest: RunManifest = runManifestSchema.parse({
    formatVersion: MANIFEST_FORMAT_VERSION,
    runId: run.runId,
    attempt: run.attempt,
    asOf: run.asOf,
    ...request.manifest,
    committedAt: new Date().toISOString(),
    ...totals,
    parts: parts.map(({ name, rows, shard }) => ({ name, rows, shard })),
    quarantine: { parts: quarantineParts.map(({ name, rows, shard }) => ({ name, rows, ...(shard === undefined ? {} : { shard }) })) },
    duplicates: { ids: dedup.ids, rows: dedup.rows },
    ...(request.pricePerDeviceHour === undefined ? {} : { cost: runCostOf(totals.deviceSeconds, totals.rowsRead, request.pricePerDeviceHour) }),
    ...(replaced ? { replaced } : {}),
    shards: outcomes,
  });

  await request.lease.assertHeld();
  const copies = [
    ...parts.map((p) => ({ from: p.from, to: joinUri(layout.partitionUri, p.name) })),
    ...quarantineParts.map((p) => ({ from: p.from, to: joinUri(layout.quarantinePartitionUri, p.name) })),
  ];
  for (let i = 0; i < copies.length; i += 8) await Promise.all(copies.slice(i, i + 8).map((c) => store.copy(c.from, c.to)));
  // A held run is marked before it becomes the committed version, so no reader of `latest` ever
  // takes it for the latest run; a run that is not held clears an older mark after the switch.
  const held = manifest.gate?.held === true;
  if (held) await store.put(layout.heldUri, `${JSON.stringify({ runId: run.runId, attempt: run.attempt, heldAt: new Date().toISOString() })}\n`, { contentType: 'application/json' });
  await store.put(layout.manifestUri, `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' });
  await store.put(layout.successUri, `${run.runId}\n`);
  if (!held) await store.delete(layout.heldUri);

  // The new version is in place: remove what no manifest lists any more, then the staging.
  const keep = new Set(copies.map((c) => c.to));
  const stale = [...(await store.list(`${layout.partitionUri}/`)), ...(await store.list(`${layout.quarantinePartitionUri}/`))]
    .map((o) => o.uri)
    .filter((uri) => uri.endsWith('.parquet') && !keep.has(uri) && baseName(uri).startsWith('part-'));
  await removeAll(store, stale);
  await removeAll(store, (await store.list(`${staging.runUri}/`)).map((o) => o.uri));
  return manifest;
}
