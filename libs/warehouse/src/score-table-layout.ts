import { ChurnError } from '@churn/errors';
import { joinUri, parseUri } from '@churn/object-store';

/**
 * Where everything of a score table lives. Under the table root, only committed score parts end
 * in `.parquet`, inside `as_of=<date>/model=<name>-<version>/`: DuckDB's and Polars' globs do not
 * skip `_`-prefixed folders (measured: `read_parquet('<root>/**\/*.parquet')` lists
 * `_temporary/` and `_quarantine/` files), so staged files carry a `.staged` suffix and the
 * quarantine is a sibling table root, `<root>_quarantine`.
 */
export interface TableLayout {
  root: string;
  quarantineRoot: string;
  partition(asOf: string, modelId: string): PartitionLayout;
  staging(runId: string): StagingLayout;
}

/** One committed partition of the score table, with its quarantine partition. */
export interface PartitionLayout {
  partitionUri: string;
  manifestUri: string;
  successUri: string;
  /** The one-writer lease of the partition (`_lease.json`). */
  leaseUri: string;
  /** Present while the committed run is held back from `latest` by the drift gate (`_HELD`). */
  heldUri: string;
  quarantinePartitionUri: string;
  /** Published name of a score part: unique per run attempt, so versions never overwrite each other. */
  partName(shardIndex: number, runTag: string): string;
  quarantinePartName(shardIndex: number | 'duplicates', runTag: string): string;
}

/** Where one run attempt's shards write before the commit publishes them. */
export interface StagingLayout {
  /** `<root>/_temporary/<runId>`: everything of the run, any attempt. */
  runUri: string;
  attempt(attempt: number): AttemptStaging;
}

export interface AttemptStaging {
  attemptUri: string;
  partUri(shardIndex: number): string;
  quarantineUri(shardIndex: number): string;
  /** The shard's customer-id keys, for duplicate detection across shards at commit. */
  idsUri(shardIndex: number): string;
  /** A part the commit rewrote (cross-shard duplicates removed). */
  rewrittenPartUri(shardIndex: number): string;
  duplicatesQuarantineUri: string;
}

const pad = (n: number) => String(n).padStart(5, '0');

/** The staging folder's name under the table root. */
export const STAGING_FOLDER = '_temporary';

export function tableLayout(outputUri: string): TableLayout {
  const parsed = parseUri(outputUri);
  const root = joinUri(outputUri);
  if (parsed.scheme === 's3' && parsed.key.replace(/\/+$/, '') === '') {
    throw new ChurnError('INVALID_ARGUMENT', `output ${outputUri} is a bucket root; use a prefix inside the bucket (e.g. s3://${parsed.bucket}/scores): the quarantine table is written beside it`, {
      details: { uri: outputUri },
      settings: ['output'],
    });
  }
  const quarantineRoot = `${root}_quarantine`;
  return {
    root,
    quarantineRoot,
    partition(asOf, modelId) {
      const partitionUri = joinUri(root, `as_of=${asOf}`, `model=${modelId}`);
      return {
        partitionUri,
        manifestUri: joinUri(partitionUri, '_manifest.json'),
        successUri: joinUri(partitionUri, '_SUCCESS'),
        leaseUri: joinUri(partitionUri, '_lease.json'),
        heldUri: joinUri(partitionUri, '_HELD'),
        quarantinePartitionUri: joinUri(quarantineRoot, `as_of=${asOf}`, `model=${modelId}`),
        partName: (i, tag) => `part-${pad(i)}-${tag}.parquet`,
        quarantinePartName: (i, tag) => `part-${typeof i === 'number' ? pad(i) : i}-${tag}.parquet`,
      };
    },
    staging(runId) {
      const runUri = joinUri(root, STAGING_FOLDER, runId);
      return {
        runUri,
        attempt(attempt) {
          const attemptUri = joinUri(runUri, `a${attempt}`);
          return {
            attemptUri,
            partUri: (i) => joinUri(attemptUri, `part-${pad(i)}.parquet.staged`),
            quarantineUri: (i) => joinUri(attemptUri, `quarantine-${pad(i)}.parquet.staged`),
            idsUri: (i) => joinUri(attemptUri, `ids-${pad(i)}.bin`),
            rewrittenPartUri: (i) => joinUri(attemptUri, `part-${pad(i)}.dedup.parquet.staged`),
            duplicatesQuarantineUri: joinUri(attemptUri, 'quarantine-duplicates.parquet.staged'),
          };
        },
      };
    },
  };
}

/** True when `uri` is `prefix` itself or inside it (whole path segments). */
export function isInside(uri: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  return uri === p || uri.startsWith(`${p}/`);
}
