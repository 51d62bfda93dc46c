import { readParquetFooter } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { baseName, type ObjectStore } from '@churn/object-store';
import type { RunManifest } from './run-manifest';
import type { PartitionLayout } from './score-table-layout';

/**
 * Marks a partition as being rewritten: `_SUCCESS` goes first, so readers stop trusting the
 * partition before any part changes.
 */
export async function beginPartition(store: ObjectStore, layout: PartitionLayout): Promise<void> {
  await store.delete(layout.successUri);
}

/**
 * Publishes a run: checks every shard's part and quarantine file exist with the row counts the
 * shard reported, removes parts that
 * belong to no shard of this run (a previous run with other sharding), writes `_manifest.json`
 * and then `_SUCCESS`. Readers trust a partition only when `_SUCCESS` exists.
 */
export async function commitPartition(store: ObjectStore, layout: PartitionLayout, manifest: RunManifest): Promise<void> {
  const expected = new Set<string>();
  for (const shard of manifest.shards) {
    for (const [uri, rows] of [
      [shard.part, shard.rowsScored],
      [shard.quarantine, shard.rowsQuarantined],
    ] as const) {
      expected.add(uri);
      const head = await store.head(uri);
      if (!head) {
        throw new ChurnError('COMMIT_FAILED', `shard ${shard.index} (${shard.file}) reported ${baseName(uri)} but ${uri} does not exist; the run was not committed: score it again`, {
          details: { shard: shard.index, uri },
        });
      }
      // The file must hold what the shard reported: a stale or partial part would break the
      // exactly-once promise (footer only: a few ranged reads).
      const footer = await readParquetFooter({ store, uri, size: head.size });
      if (footer.numRows !== rows) {
        throw new ChurnError('COMMIT_FAILED', `shard ${shard.index} reported ${rows} rows in ${uri} but the file holds ${footer.numRows}; the run was not committed: score it again`, {
          details: { shard: shard.index, uri, reported: rows, found: footer.numRows },
        });
      }
    }
  }
  const existing = await store.list(`${layout.partitionUri}/`);
  for (const object of existing) {
    const isData = object.uri.endsWith('.parquet');
    if (isData && !expected.has(object.uri)) await store.delete(object.uri);
  }
  await store.put(layout.manifestUri, `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' });
  await store.put(layout.successUri, `${manifest.runId}\n`);
}

/** Reads a committed partition's manifest, or undefined when the partition is not committed. */
export async function readCommittedManifest(store: ObjectStore, layout: PartitionLayout): Promise<RunManifest | undefined> {
  if (!(await store.head(layout.successUri))) return undefined;
  return JSON.parse(new TextDecoder().decode(await store.get(layout.manifestUri))) as RunManifest;
}

/** One committed partition of a score table. */
export interface CommittedPartition {
  partitionUri: string;
  asOf: string;
  model: string;
  parts: string[];
}

/**
 * Finds the committed partitions under a score table root: folders holding `_SUCCESS`, with the
 * score parts the manifest lists (not whatever else is lying there).
 */
export async function listCommittedPartitions(store: ObjectStore, scoresUri: string): Promise<CommittedPartition[]> {
  const objects = await store.list(scoresUri.endsWith('/') ? scoresUri : `${scoresUri}/`);
  const out: CommittedPartition[] = [];
  for (const object of objects) {
    const m = /^(.*\/as_of=(\d{4}-\d{2}-\d{2})\/model=([^/]+))\/_SUCCESS$/.exec(object.uri);
    if (!m?.[1] || !m[2] || !m[3]) continue;
    const manifestUri = `${m[1]}/_manifest.json`;
    const manifest = JSON.parse(new TextDecoder().decode(await store.get(manifestUri))) as RunManifest;
    out.push({ partitionUri: m[1], asOf: m[2], model: m[3], parts: manifest.shards.map((s) => s.part) });
  }
  return out;
}
