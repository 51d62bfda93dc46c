export { readParquetFooter, readRowGroups } from './parquet-reader';
export type { ParquetFooter, ParquetSource, ReadRowGroupsOptions } from './parquet-reader';
export { writeParquetTable, readParquetBytes } from './parquet-writer';
export type { WriteParquetOptions } from './parquet-writer';
export { rangedBlob } from './ranged-blob';
export type { RangedBlob, RangedBlobOptions } from './ranged-blob';
export { resolvePartition, listAsOfDates, parseAsOf, isDataFile } from './dataset-partitions';
export type { DatasetPartition } from './dataset-partitions';
