import { DataType, type Table, type Vector } from 'apache-arrow';
import { writeParquetTable, type WriteParquetOptions } from '@churn/arrow-io';
import type { ObjectStore } from '@churn/object-store';
import {
  allNullColumn,
  boolColumn,
  categoryColumn,
  constantDate,
  constantString,
  constantTimestamp,
  float32Column,
  int32Column,
  nullableFloat32Column,
  stringColumn,
  tableOf,
  type ColumnSpec,
} from './arrow-builders';

/** Columns every score row carries, never null (the score-table contract, docs/architecture.md). */
/** The prefix of a contribution column's name: `contrib_<player>`, one per feature or group. */
export const CONTRIBUTION_COLUMN_PREFIX = 'contrib_';

export const SCORE_COLUMNS = ['customer_id', 'as_of', 'score', 'risk_band', 'model_name', 'model_version', 'model_digest', 'run_id', 'scored_at'] as const;

/** Columns of the quarantine table. */
export const QUARANTINE_COLUMNS = ['customer_id', 'source_file', 'row_index', 'reason_code', 'reason_detail', 'as_of', 'model_name', 'model_version', 'run_id'] as const;

/** What every row of a run is stamped with. */
export interface RunIdentity {
  runId: string;
  asOf: string;
  modelName: string;
  modelVersion: string;
  modelDigest: string;
  scoredAt: Date;
}

export interface ScoreRows {
  /** Utf8 vector of ids, one per score (see takeStrings in feature-transforms). */
  customerIds: Vector;
  scores: Float32Array;
  /** Per-row index into `bandNames`. */
  bandCodes: Int32Array;
  bandNames: readonly string[];
  /** Snapshot columns copied into every score row (the bundle's `segments`), in order. */
  segments?: readonly { name: string; vector: Vector }[];
}

/**
 * Per-feature (or per-group) explanations of the scored rows, written as `explained`,
 * `base_value`, `contrib_<player>`, `reason_1..3` and `reason_1..3_text` columns.
 */
export interface ExplanationColumns {
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

/** The explanation columns of a model, in order: the same for every partition of the model. */
export function explanationColumnNames(players: readonly string[]): string[] {
  return [
    'explained',
    'base_value',
    ...players.map((p) => `${CONTRIBUTION_COLUMN_PREFIX}${p}`),
    ...Array.from({ length: REASON_COUNT }, (_, k) => `reason_${k + 1}`),
    ...Array.from({ length: REASON_COUNT }, (_, k) => `reason_${k + 1}_text`),
  ];
}

function explanationColumns(explanation: ExplanationColumns | undefined, n: number, players: readonly string[]): ColumnSpec[] {
  if (!explanation) {
    // Nothing explained (policy none): every column null, built from a zeroed bitmap alone.
    return explanationColumnNames(players).map((name) => ({
      name,
      vector: name === 'explained' ? boolColumn(new Uint8Array(n)) : allNullColumn(name.startsWith('reason_') ? 'utf8' : 'float32', n),
      nullable: name !== 'explained',
    }));
  }
  const { explained } = explanation;
  const columns: ColumnSpec[] = [
    { name: 'explained', vector: boolColumn(explained), nullable: false },
    { name: 'base_value', vector: nullableFloat32Column(new Float32Array(n).fill(explanation.baseValue), explained), nullable: true },
  ];
  players.forEach((player, p) => {
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = explanation.contributions[i * players.length + p]!;
    columns.push({ name: `${CONTRIBUTION_COLUMN_PREFIX}${player}`, vector: nullableFloat32Column(values, explained), nullable: true });
  });
  for (let k = 0; k < REASON_COUNT; k++) columns.push({ name: `reason_${k + 1}`, vector: stringColumn(explanation.reasons[k]!), nullable: true });
  for (let k = 0; k < REASON_COUNT; k++) columns.push({ name: `reason_${k + 1}_text`, vector: stringColumn(explanation.reasonTexts[k]!), nullable: true });
  return columns;
}

/**
 * The score-table part of one shard: the contract columns (declared non-null), the segment
 * columns copied from the snapshot, then the explanation columns, null where a row was not explained, so every partition of a model has
 * one schema whatever the explanation policy.
 */
export function buildScoreTable(run: RunIdentity, rows: ScoreRows, players: readonly string[], explanation?: ExplanationColumns): Table {
  const n = rows.scores.length;
  const required = (name: string, vector: Vector): ColumnSpec => ({ name, vector, nullable: false });
  return tableOf(
    [
      required('customer_id', rows.customerIds),
      required('as_of', constantDate(run.asOf, n)),
      required('score', float32Column(rows.scores)),
      required('risk_band', categoryColumn(rows.bandCodes, rows.bandNames)),
      required('model_name', constantString(run.modelName, n)),
      required('model_version', constantString(run.modelVersion, n)),
      required('model_digest', constantString(run.modelDigest, n)),
      required('run_id', constantString(run.runId, n)),
      required('scored_at', constantTimestamp(run.scoredAt, n)),
      ...(rows.segments ?? []).map((s) => ({ name: s.name, vector: s.vector, nullable: true })),
      ...explanationColumns(explanation, n, players),
    ],
    n,
  );
}

export interface QuarantineRows {
  /** Utf8 vector of ids (null where the row had none). */
  customerIds: Vector;
  /** Source file of each row. */
  sourceFiles: readonly string[];
  /** Row index of each row within its source file. */
  rowIndices: Int32Array;
  reasonCodes: readonly string[];
  reasonDetails: readonly string[];
}

/** Rows that were not scored: where they came from, the primary reason code, and the detail. */
export function buildQuarantineTable(run: RunIdentity, rows: QuarantineRows): Table {
  const n = rows.rowIndices.length;
  return tableOf(
    [
      { name: 'customer_id', vector: rows.customerIds, nullable: true },
      { name: 'source_file', vector: stringColumn(rows.sourceFiles), nullable: false },
      { name: 'row_index', vector: int32Column(rows.rowIndices), nullable: false },
      { name: 'reason_code', vector: stringColumn(rows.reasonCodes), nullable: false },
      { name: 'reason_detail', vector: stringColumn(rows.reasonDetails), nullable: false },
      { name: 'as_of', vector: constantDate(run.asOf, n), nullable: false },
      { name: 'model_name', vector: constantString(run.modelName, n), nullable: false },
      { name: 'model_version', vector: constantString(run.modelVersion, n), nullable: false },
      { name: 'run_id', vector: constantString(run.runId, n), nullable: false },
    ],
    n,
  );
}

const NO_STATISTICS = new Set(['as_of', 'model_name', 'model_version', 'model_digest', 'run_id', 'scored_at', 'explained', 'base_value', 'source_file', 'reason_detail']);

/**
 * String columns written without dictionary encoding (docs/decisions.md): near-unique values,
 * and the run's constants, whose one value the writer would otherwise hash on every row (a
 * plain page of one repeated value compresses to a few bytes under zstd).
 */
const PLAIN_STRINGS = new Set(['customer_id', 'reason_detail', 'source_file', 'model_name', 'model_version', 'model_digest', 'run_id']);

/**
 * The writer settings of a part. Near-unique columns skip dictionary encoding, which costs
 * several times the plain encoding and only grows the file: the listed strings, and every float
 * or integer column (scores, contributions, numeric segments, row indices) but the constant ones.
 */
export function partWriteOptions(table: Table): WriteParquetOptions {
  const plainColumns = table.schema.fields
    .filter((f) => PLAIN_STRINGS.has(f.name) || ((DataType.isFloat(f.type) || DataType.isInt(f.type)) && !DataType.isDictionary(f.type)))
    .map((f) => f.name);
  // Statistics where readers prune on them: ids, scores, bands, segments. Not on the run's
  // constants (as_of and model come from the partition path) nor on explanation columns.
  const noStatisticsColumns = table.schema.fields.map((f) => f.name).filter((c) => NO_STATISTICS.has(c) || c.startsWith(CONTRIBUTION_COLUMN_PREFIX) || c.startsWith('reason_'));
  // Scores, contributions and numeric segments are high-entropy floats: zstd takes 3-10x the
  // time of lz4 on them for 12-20% fewer bytes (docs/decisions.md), so they are lz4.
  const columnCompression = Object.fromEntries(
    table.schema.fields.filter((f) => DataType.isFloat(f.type) && f.name !== 'base_value').map((f) => [f.name, 'lz4' as const]),
  );
  return {
    compression: 'zstd',
    rowGroupRows: 128 * 1024,
    plainColumns,
    noStatisticsColumns,
    columnCompression,
    columnEncoding: { customer_id: 'delta_byte_array' },
  };
}

/** Encodes one part with partWriteOptions. */
export function encodeTablePart(table: Table): Uint8Array {
  return writeParquetTable(table, partWriteOptions(table));
}

/** Encodes and stores one part. The key is deterministic per shard, so a retry overwrites. */
export async function writeTablePart(store: ObjectStore, uri: string, table: Table): Promise<void> {
  await store.put(uri, encodeTablePart(table));
}
