import { ChurnError } from '@churn/errors';
import { joinUri, normalizeUri, type ObjectInfo, type ObjectStore } from '@churn/object-store';

const PARTITION = /\/as_of=(\d{4}-\d{2}-\d{2})\//;

/** One as-of partition of a dataset and its Parquet files, sorted by URI. */
export interface DatasetPartition {
  asOf: string;
  partitionUri: string;
  files: ObjectInfo[];
}

/**
 * Whether a path below a partition folder is data: Hadoop and Spark mark what is not data with
 * a `_` or `.` prefix, on files (`_SUCCESS`, `.crc`) and on folders (`_temporary/` of an
 * unfinished job, `.hive-staging/`), so any such segment excludes the file.
 */
export function isDataFile(relativePath: string): boolean {
  return relativePath.split('/').every((segment) => segment.length > 0 && !segment.startsWith('_') && !segment.startsWith('.'));
}

/** Validates an as-of date string (a real calendar date in YYYY-MM-DD form). */
export function parseAsOf(value: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = match ? new Date(`${value}T00:00:00Z`) : undefined;
  if (!match || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new ChurnError('INVALID_ARGUMENT', `"${value}" is not a valid as-of date; use YYYY-MM-DD, e.g. 2026-11-28`, { details: { asOf: value } });
  }
  return value;
}

/** The as-of dates a dataset has, ascending. */
export async function listAsOfDates(store: ObjectStore, datasetUri: string): Promise<string[]> {
  const objects = await store.list(normalizeUri(datasetUri));
  const dates = new Set<string>();
  for (const o of objects) {
    const m = PARTITION.exec(o.uri);
    if (m?.[1] && o.uri.endsWith('.parquet') && isDataFile(o.uri.slice(m.index + m[0].length))) dates.add(m[1]);
  }
  return [...dates].sort();
}

/**
 * Finds the Parquet files of `<dataset>/as_of=<date>/` (the latest date when none is given).
 * A URI that already points into a partition folder is accepted as is.
 */
export async function resolvePartition(store: ObjectStore, datasetUri: string, asOf?: string): Promise<DatasetPartition> {
  const root = normalizeUri(datasetUri).replace(/\/+$/, '');
  const inline = /\/as_of=(\d{4}-\d{2}-\d{2})$/.exec(root);
  let date = asOf === undefined ? undefined : parseAsOf(asOf);
  let partitionUri: string;
  if (inline?.[1]) {
    if (date && date !== inline[1]) {
      throw new ChurnError('INVALID_ARGUMENT', `the as-of date ${date} contradicts the partition in ${datasetUri}`, { details: { asOf: date, uri: datasetUri }, settings: ['asOf'] });
    }
    date = inline[1];
    partitionUri = root;
  } else {
    if (!date) {
      const dates = await listAsOfDates(store, root);
      date = dates.at(-1);
      if (!date) {
        const any = await store.list(root);
        throw new ChurnError(
          'INPUT_NOT_FOUND',
          any.length === 0
            ? `input location ${root} does not exist or is empty; expected Parquet files under ${root}/as_of=YYYY-MM-DD/`
            : `input location ${root} has no as_of=YYYY-MM-DD partitions with .parquet files (found ${any.length} other objects)`,
          { details: { uri: root } },
        );
      }
    }
    partitionUri = joinUri(root, `as_of=${date}`);
  }
  const files = (await store.list(`${partitionUri}/`)).filter((o) => o.uri.endsWith('.parquet') && isDataFile(o.uri.slice(partitionUri.length + 1)));
  if (files.length === 0) {
    throw new ChurnError('INPUT_NOT_FOUND', `partition ${partitionUri} has no .parquet files; check the dataset location and the as-of date (available dates: ${(await listAsOfDates(store, root)).join(', ') || 'none'})`, {
      details: { uri: partitionUri },
      settings: ['asOf'],
    });
  }
  const empty = files.filter((f) => f.size === 0);
  if (empty.length > 0) {
    throw new ChurnError('CORRUPT_INPUT', `${empty[0]!.uri} is empty (0 bytes); it is not a Parquet file: re-export it or remove it from the partition`, {
      details: { file: empty[0]!.uri },
    });
  }
  return { asOf: date, partitionUri, files };
}
