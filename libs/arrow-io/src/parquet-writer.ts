import { tableToIPC, tableFromIPC, type Table } from 'apache-arrow';
import { ChurnError } from '@churn/errors';
import { Compression, EnabledStatistics, Encoding, Table as WasmTable, WriterPropertiesBuilder, WriterVersion, readParquet, writeParquet } from 'parquet-wasm/node';

/** Page compressions the writer offers: zstd for size, lz4 (LZ4_RAW) where zstd gains little for its time. */
export const PARQUET_COMPRESSIONS = ['snappy', 'zstd', 'lz4', 'none'] as const;
export type ParquetCompression = (typeof PARQUET_COMPRESSIONS)[number];

/** Value encodings a column may ask for instead of the writer's default (plain, or its dictionary). */
export const PARQUET_ENCODINGS = ['delta_byte_array'] as const;
export type ParquetEncoding = (typeof PARQUET_ENCODINGS)[number];

export interface WriteParquetOptions {
  compression?: ParquetCompression;
  /** Rows per row group: large enough for efficient scans, small enough to shard on. */
  rowGroupRows?: number;
  /**
   * Columns written without dictionary encoding: near-unique values (ids, scores) gain nothing
   * from a dictionary and cost 4x the encode time with it (measured with parquet-wasm 0.8).
   */
  plainColumns?: readonly string[];
  /**
   * Columns written without min/max statistics: constants and columns that are mostly null,
   * where statistics help no reader and cost ~20% of the encode time (measured).
   */
  noStatisticsColumns?: readonly string[];
  /** Per-column compression instead of `compression` (e.g. lz4 for high-entropy floats). */
  columnCompression?: Readonly<Record<string, ParquetCompression>>;
  /**
   * Per-column value encoding, for columns without a dictionary: `delta_byte_array` stores each
   * string as the prefix it shares with the previous one plus the rest (ids in order share most).
   */
  columnEncoding?: Readonly<Record<string, ParquetEncoding>>;
  /** Rows the writer encodes per batch (parquet's default 1,024). */
  writeBatchSize?: number;
  /** Parquet data page format (default 1). */
  writerVersion?: 1 | 2;
  /** Key-value metadata written into the footer. */
  metadata?: Record<string, string>;
}

const COMPRESSION: Readonly<Record<ParquetCompression, Compression>> = { snappy: Compression.SNAPPY, zstd: Compression.ZSTD, lz4: Compression.LZ4_RAW, none: Compression.UNCOMPRESSED };
const ENCODING: Readonly<Record<ParquetEncoding, Encoding>> = { delta_byte_array: Encoding.DELTA_BYTE_ARRAY };

/** Encodes an Arrow table as a Parquet file. */
export function writeParquetTable(table: Table, options: WriteParquetOptions = {}): Uint8Array {
  let builder = new WriterPropertiesBuilder()
    .setCompression(COMPRESSION[options.compression ?? 'snappy'])
    .setMaxRowGroupSize(options.rowGroupRows ?? 128 * 1024)
    .setCreatedBy('churn-scoring');
  for (const column of options.plainColumns ?? []) builder = builder.setColumnDictionaryEnabled(column, false);
  for (const column of options.noStatisticsColumns ?? []) builder = builder.setColumnStatisticsEnabled(column, EnabledStatistics.None);
  for (const [column, compression] of Object.entries(options.columnCompression ?? {})) builder = builder.setColumnCompression(column, COMPRESSION[compression]);
  for (const [column, encoding] of Object.entries(options.columnEncoding ?? {})) builder = builder.setColumnEncoding(column, ENCODING[encoding]);
  if (options.writeBatchSize) builder = builder.setWriteBatchSize(options.writeBatchSize);
  if (options.writerVersion === 2) builder = builder.setWriterVersion(WriterVersion.V2);
  if (options.metadata) builder = builder.setKeyValueMetadata(new Map(Object.entries(options.metadata)));
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  return writeParquet(wasmTable, builder.build());
}

/** Decodes a whole Parquet file held in memory (small files, tests and tools). */
export function readParquetBytes(bytes: Uint8Array, columns?: string[]): Table {
  // parquet-wasm's synchronous reader ignores its `columns` option, so select after decoding.
  const table = tableFromIPC(readParquet(bytes).intoIPCStream());
  if (!columns) return table;
  const names = new Set(table.schema.fields.map((f) => f.name));
  const missing = columns.filter((c) => !names.has(c));
  if (missing.length > 0) {
    throw new ChurnError('CONTRACT_VIOLATION', `Parquet data has no column ${missing.map((c) => `"${c}"`).join(', ')}`, {
      details: { columns: missing },
    });
  }
  return table.select(columns);
}
