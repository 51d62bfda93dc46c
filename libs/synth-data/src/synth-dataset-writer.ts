import { writeParquetTable } from '@churn/arrow-io';
import { joinUri, type ObjectStore } from '@churn/object-store';
import { synthFile } from './synth-table';
import { partFileName, resolveSynthOptions, type SynthFileResult, type SynthOptions, type SynthResult } from './synth-options';

const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';
const PART_FILE = /^part-\d{5}\.parquet$/;

/**
 * Writes `<outUri>/as_of=<asOf>/part-00000.parquet`, ... (snappy, `rowGroupRows` rows per row
 * group) through the store, one file at a time so memory stays at one file's table. Part files
 * left in the partition by an earlier run with more files are deleted afterwards: a stale part
 * would silently join the dataset. Validates options (INVALID_ARGUMENT with the fix in the message).
 */
export async function writeSynthDataset(store: ObjectStore, outUri: string, options: SynthOptions): Promise<SynthResult> {
  const resolved = resolveSynthOptions(options);
  const partitionUri = joinUri(outUri, `as_of=${resolved.asOf}`);
  const files: SynthFileResult[] = [];
  for (let fileIndex = 0; fileIndex < resolved.files; fileIndex++) {
    const { table, rows, faults } = synthFile(resolved, fileIndex);
    const bytes = writeParquetTable(table, {
      compression: 'snappy',
      rowGroupRows: resolved.rowGroupRows,
      // Provenance in the footer; it holds only options, so the bytes stay deterministic.
      metadata: {
        'churn.synth': JSON.stringify({ ...resolved, fileIndex }),
      },
    });
    const uri = joinUri(partitionUri, partFileName(fileIndex));
    await store.put(uri, bytes, { contentType: PARQUET_CONTENT_TYPE });
    files.push({ uri, rows, rowGroups: Math.ceil(rows / resolved.rowGroupRows), faults });
  }
  const written = new Set(files.map((f) => f.uri));
  const prefix = `${partitionUri}/`;
  for (const object of await store.list(prefix)) {
    const rest = object.uri.startsWith(prefix) ? object.uri.slice(prefix.length) : '';
    if (PART_FILE.test(rest) && !written.has(object.uri)) await store.delete(object.uri);
  }
  return { partitionUri, files, rows: files.reduce((sum, f) => sum + f.rows, 0) };
}
