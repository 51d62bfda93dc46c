import { Table, type Vector } from 'apache-arrow';
import { writeParquetTable } from '@churn/arrow-io';
import type { ObjectStore } from '@churn/object-store';
import {
  categoryColumn,
  constantDate,
  constantString,
  constantTimestamp,
  float32Column,
  int32Column,
  stringColumn,
} from './arrow-builders';

/** Columns every score row carries (the score-table contract in DESIGN.md section 4). */
export const SCORE_COLUMNS = ['customer_id', 'as_of', 'score', 'risk_band', 'model_name', 'model_version', 'run_id', 'scored_at'] as const;

export interface RunIdentity {
  runId: string;
  asOf: string;
  modelName: string;
  modelVersion: string;
  scoredAt: Date;
}

export interface ScoreRows {
  /** Utf8 vector of ids, one per score (see takeStrings in feature-transforms). */
  customerIds: Vector;
  scores: Float32Array;
  /** Per-row index into `bandNames`. */
  bandCodes: Int32Array;
  bandNames: readonly string[];
}

export function buildScoreTable(run: RunIdentity, rows: ScoreRows): Table {
  const n = rows.scores.length;
  return new Table({
    customer_id: rows.customerIds,
    as_of: constantDate(run.asOf, n),
    score: float32Column(rows.scores),
    risk_band: categoryColumn(rows.bandCodes, rows.bandNames),
    model_name: constantString(run.modelName, n),
    model_version: constantString(run.modelVersion, n),
    run_id: constantString(run.runId, n),
    scored_at: constantTimestamp(run.scoredAt, n),
  });
}

export interface QuarantineRows {
  /** Utf8 vector of ids (null where the row had none). */
  customerIds: Vector;
  sourceFile: string;
  rowIndices: Int32Array;
  reasons: readonly string[];
}

/** Rows that broke the input contract: where they came from and why they were not scored. */
export function buildQuarantineTable(run: RunIdentity, rows: QuarantineRows): Table {
  const n = rows.rowIndices.length;
  return new Table({
    customer_id: rows.customerIds,
    source_file: constantString(rows.sourceFile, n),
    row_index: int32Column(rows.rowIndices),
    reason: stringColumn(rows.reasons),
    as_of: constantDate(run.asOf, n),
    run_id: constantString(run.runId, n),
  });
}

/** Encodes and stores one part. The key is deterministic per shard, so a retry overwrites. */
export async function writeTablePart(store: ObjectStore, uri: string, table: Table): Promise<void> {
  const plainColumns = ['customer_id', 'score', 'row_index', 'reason'].filter((c) => table.schema.fields.some((f) => f.name === c));
  await store.put(uri, writeParquetTable(table, { compression: 'zstd', rowGroupRows: 128 * 1024, plainColumns }));
}
