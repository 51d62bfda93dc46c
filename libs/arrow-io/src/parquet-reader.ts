import { tableFromIPC, type Schema, type Table } from 'apache-arrow';
import { ParquetFile } from 'parquet-wasm/node';
import { ChurnError } from '@churn/errors';
import type { ObjectStore } from '@churn/object-store';
import { rangedBlob, type RangedBlob } from './ranged-blob';

/** What a Parquet footer says about a file: enough to plan shards without reading data. */
export interface ParquetFooter {
  uri: string;
  size: number;
  numRows: number;
  /** Row count of each row group, in file order. */
  rowGroupRows: number[];
  schema: Schema;
}

export interface ParquetSource {
  store: ObjectStore;
  uri: string;
  /** Object size in bytes (from a listing or a head call). */
  size: number;
  onRead?: (start: number, end: number) => void;
}

function corrupt(uri: string, cause: unknown): ChurnError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ChurnError(
    'CORRUPT_INPUT',
    `${uri} is not a readable Parquet file (${reason}); it may be truncated or not Parquet at all: re-export it, or remove it from the partition`,
    { cause, details: { file: uri } },
  );
}

/**
 * A blob for parquet-wasm that never hands it a failed or short read. parquet-wasm's async reader
 * panics when `arrayBuffer()` rejects or returns fewer bytes than it asked for: the wasm trap
 * escapes as an unhandled rejection (which kills the process) and the pending read never settles.
 * So such a read is reported through `failed` and left unanswered; callers race every
 * parquet-wasm call against `failed`.
 */
interface GuardedBlob {
  blob: RangedBlob;
  failed: Promise<never>;
}

function guardedBlob(source: ParquetSource): GuardedBlob {
  let fail: (error: ChurnError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Nobody may be racing against it when it fires (e.g. after the wasm call already failed).
  failed.catch(() => undefined);
  const unanswered = () => new Promise<ArrayBuffer>(() => undefined);

  const wrap = (inner: RangedBlob, expected: number): RangedBlob => ({
    size: inner.size,
    slice(start = 0, end = inner.size) {
      // What parquet-wasm expects back: the requested span, not the span clamped to the object.
      const s = start < 0 ? Math.max(0, inner.size + start) : start;
      const e = end < 0 ? inner.size + end : end;
      return wrap(inner.slice(start, end), Math.max(0, e - s));
    },
    async arrayBuffer() {
      let buffer: ArrayBuffer;
      try {
        buffer = await inner.arrayBuffer();
      } catch (cause) {
        fail(
          cause instanceof ChurnError
            ? cause
            : new ChurnError('IO_ERROR', `cannot read ${source.uri}: ${(cause as Error)?.message ?? String(cause)}`, {
                cause,
                details: { uri: source.uri },
              }),
        );
        return unanswered();
      }
      if (buffer.byteLength !== expected) {
        fail(
          corrupt(
            source.uri,
            new Error(
              `a read of ${expected} bytes returned ${buffer.byteLength}: the object (${source.size} bytes) is shorter than its footer says`,
            ),
          ),
        );
        return unanswered();
      }
      return buffer;
    },
  });
  return { blob: wrap(rangedBlob(source), source.size), failed };
}

interface OpenFile {
  file: ParquetFile;
  failed: Promise<never>;
}

async function open(source: ParquetSource): Promise<OpenFile> {
  if (source.size < 12) throw corrupt(source.uri, new Error(`only ${source.size} bytes`));
  const { blob, failed } = guardedBlob(source);
  try {
    // parquet-wasm only calls size/slice/arrayBuffer on the handle, which the ranged blob provides.
    const file = await Promise.race([ParquetFile.fromFile(blob as unknown as Blob), failed]);
    return { file, failed };
  } catch (cause) {
    if (cause instanceof ChurnError) throw cause;
    throw corrupt(source.uri, cause);
  }
}

function release(file: ParquetFile): void {
  try {
    file.free();
  } catch {
    // Still borrowed by a read abandoned after a failed fetch; the wasm finalizer owns it now.
  }
}

/** Reads only the footer (a few ranged reads at the end of the object). */
export async function readParquetFooter(source: ParquetSource): Promise<ParquetFooter> {
  const { file } = await open(source);
  try {
    const meta = file.metadata();
    const rowGroupRows: number[] = [];
    for (let i = 0; i < meta.numRowGroups(); i++) rowGroupRows.push(meta.rowGroup(i).numRows());
    const schema = tableFromIPC(file.schema().intoIPCStream()).schema;
    return {
      uri: source.uri,
      size: source.size,
      numRows: rowGroupRows.reduce((a, b) => a + b, 0),
      rowGroupRows,
      schema,
    };
  } catch (cause) {
    throw corrupt(source.uri, cause);
  } finally {
    release(file);
  }
}

export interface ReadRowGroupsOptions extends ParquetSource {
  rowGroups: number[];
  /** Column names to decode; others are never fetched. */
  columns: string[];
  /** Decode at most this many rows (from the first selected row group on). */
  limit?: number;
}

/**
 * Checked before decoding: parquet-wasm panics (see `guardedBlob`) on a row group index past the
 * end, and reports a missing column as a bare decode error.
 */
function checkSelection(file: ParquetFile, options: ReadRowGroupsOptions): void {
  const numRowGroups = file.metadata().numRowGroups();
  const badGroups = options.rowGroups.filter((g) => !Number.isInteger(g) || g < 0 || g >= numRowGroups);
  if (badGroups.length > 0) {
    throw new ChurnError(
      'INVALID_ARGUMENT',
      `row groups [${badGroups.join(', ')}] do not exist in ${options.uri}, which has ${numRowGroups}`,
      { details: { file: options.uri, rowGroups: badGroups, numRowGroups } },
    );
  }
  const fields = new Set(tableFromIPC(file.schema().intoIPCStream()).schema.fields.map((f) => f.name));
  const missing = options.columns.filter((c) => !fields.has(c));
  if (missing.length > 0) {
    throw new ChurnError('CONTRACT_VIOLATION', `${options.uri} has no column ${missing.map((c) => `"${c}"`).join(', ')}`, {
      details: { file: options.uri, columns: missing },
    });
  }
}

/** Decodes the given row groups and columns into one Arrow table (memory bounded by the shard). */
export async function readRowGroups(options: ReadRowGroupsOptions): Promise<Table> {
  const { file, failed } = await open(options);
  try {
    checkSelection(file, options);
    const wasmTable = await Promise.race([file.read({ rowGroups: options.rowGroups, columns: options.columns, batchSize: 65_536, ...(options.limit === undefined ? {} : { limit: options.limit }) }), failed]);
    return tableFromIPC(wasmTable.intoIPCStream());
  } catch (cause) {
    if (cause instanceof ChurnError) throw cause;
    throw new ChurnError(
      'CORRUPT_INPUT',
      `cannot decode row groups [${options.rowGroups.join(', ')}] of ${options.uri}: ${(cause as Error)?.message ?? String(cause)}; the file is damaged or truncated: re-export it`,
      { cause, details: { file: options.uri, rowGroups: options.rowGroups } },
    );
  } finally {
    release(file);
  }
}
