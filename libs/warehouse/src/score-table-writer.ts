import { Table, type Vector } from 'apache-arrow';
import { writeParquetTable } from '@churn/arrow-io';
import type { ObjectStore } from '@churn/object-store';
import {
  boolColumn,
  categoryColumn,
  constantDate,
  constantString,
  constantTimestamp,
  float32Column,
  int32Column,
  nullableFloat32Column,
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

/**
 * Per-feature (or per-group) explanations of the scored rows, written as `explained`,
 * `base_value`, `contrib_<player>`, `reason_1..3` and `reason_1..3_text` columns.
 */
export interface ExplanationColumns {
  /** Player ids in column order: a feature id, or a group id for grouped features. */
  players: readonly string[];
  /** Per scored row: 1 when the row was explained. */
  explained: Uint8Array;
  /** f(baseline) in the explanation's output space. */
  baseValue: number;
  /** Scored rows x players, row-major; rows not explained are written as nulls. */
  contributions: Float32Array;
  /** reasons[k][row]: the (k+1)-th reason's player id, or null. */
  reasons: (string | null)[][];
  /** reasonTexts[k][row]: that reason rendered for the customer, or null. */
  reasonTexts: (string | null)[][];
}

/** Number of reasons each explained row carries. */
export const REASON_COUNT = 3;

function explanationColumns(explanation: ExplanationColumns | undefined, n: number, players: readonly string[]): Record<string, Vector> {
  const explained = explanation?.explained ?? new Uint8Array(n);
  const columns: Record<string, Vector> = {
    explained: boolColumn(explained),
    base_value: nullableFloat32Column(new Float32Array(n).fill(explanation?.baseValue ?? 0), explained),
  };
  players.forEach((player, p) => {
    const values = new Float32Array(n);
    if (explanation) for (let i = 0; i < n; i++) values[i] = explanation.contributions[i * players.length + p]!;
    columns[`contrib_${player}`] = nullableFloat32Column(values, explained);
  });
  for (let k = 0; k < REASON_COUNT; k++) {
    columns[`reason_${k + 1}`] = stringColumn(explanation?.reasons[k] ?? new Array<null>(n).fill(null));
  }
  for (let k = 0; k < REASON_COUNT; k++) {
    columns[`reason_${k + 1}_text`] = stringColumn(explanation?.reasonTexts[k] ?? new Array<null>(n).fill(null));
  }
  return columns;
}

/**
 * The score-table part of one shard. With `players`, explanation columns follow the contract
 * columns, null where a row was not explained, so every partition of a model has one schema
 * whatever the explanation policy; without, only the contract columns are written.
 */
export function buildScoreTable(run: RunIdentity, rows: ScoreRows, players?: readonly string[], explanation?: ExplanationColumns): Table {
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
    ...(players ? explanationColumns(explanation, n, players) : {}),
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
  const plainColumns = table.schema.fields.map((f) => f.name).filter((c) => ['customer_id', 'score', 'row_index', 'reason', 'base_value'].includes(c) || c.startsWith('contrib_'));
  await store.put(uri, writeParquetTable(table, { compression: 'zstd', rowGroupRows: 128 * 1024, plainColumns }));
}
